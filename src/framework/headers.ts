/**
 * Header mutations plugins ask for. Plugins never touch the wire: a PreRequest plugin that must tell the
 * proxy (or a sidecar behind it) something, such as P/D's `x-prefiller-host-port`, writes it here; the
 * routing reply carries the edits to the proxy as header mutations. Response plugins do the same for the
 * response headers (e.g. a session token). Names are lower-cased; a later edit of a name wins.
 */

export interface HeaderEdits {
  /** Sets `name` to `value`, replacing any value the request or an earlier edit had. */
  set(name: string, value: string): void;
  /** Removes `name` (a header the client sent must not reach the pod, e.g. a spoofed prefill target). */
  remove(name: string): void;
}

/** The collected edits, read by the edge that turns them into a header mutation. */
export interface HeaderMutation {
  /** Name → value; each replaces the header. */
  readonly set: ReadonlyMap<string, string>;
  /** Names to remove; never one that is also in `set`. */
  readonly remove: ReadonlySet<string>;
}

/** The one implementation: a set map and a remove set that keep each other consistent. */
export class HeaderEditList implements HeaderEdits {
  readonly #set = new Map<string, string>();
  readonly #remove = new Set<string>();

  set(name: string, value: string): void {
    const key = name.toLowerCase();
    this.#remove.delete(key);
    this.#set.set(key, value);
  }

  remove(name: string): void {
    const key = name.toLowerCase();
    this.#set.delete(key);
    this.#remove.add(key);
  }

  get isEmpty(): boolean {
    return this.#set.size === 0 && this.#remove.size === 0;
  }

  /** The edits as a read-only mutation. */
  get mutation(): HeaderMutation {
    return { set: this.#set, remove: this.#remove };
  }
}

export const NO_HEADER_MUTATION: HeaderMutation = Object.freeze({ set: new Map<string, string>(), remove: new Set<string>() });
