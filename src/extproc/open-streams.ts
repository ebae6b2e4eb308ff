/**
 * The open ext_proc streams, as an intrusive doubly linked list rather than a Map.
 *
 * Why not a Map: a Map with entries added and deleted at the request rate rehashes every few dozen
 * operations, and each table it leaves behind sits in the old generation still pointing at the streams
 * that were open then. Young-generation collections take those stale pointers as live, so every stream
 * they reach (with its request, parsed body and the transport's objects) is promoted and waits for the
 * next full collection: ~500 KB per scavenge under h2load at 4 KB, against ~30 KB without the Map
 * (`--trace-gc-nvp`, `promoted=`). An unlinked node here clears its own pointers, so nothing dead keeps
 * a stream alive.
 */
export interface Linked<T> {
  readonly value: T;
  prev: Linked<T> | undefined;
  next: Linked<T> | undefined;
  linked: boolean;
}

export class LinkedSet<T> {
  #head: Linked<T> | undefined;
  #tail: Linked<T> | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(value: T): Linked<T> {
    const node: Linked<T> = { value, prev: this.#tail, next: undefined, linked: true };
    if (this.#tail) this.#tail.next = node;
    else this.#head = node;
    this.#tail = node;
    this.#size++;
    return node;
  }

  /** Harmless for a node already removed. */
  remove(node: Linked<T>): void {
    if (!node.linked) return;
    node.linked = false;
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev;
    node.prev = undefined;
    node.next = undefined;
    this.#size--;
  }

  /** Oldest first; removing the current node while iterating is allowed. */
  *nodes(): IterableIterator<Linked<T>> {
    for (let n = this.#head; n; ) {
      const next = n.next;
      yield n;
      n = next;
    }
  }

  clear(): void {
    for (const n of this.nodes()) this.remove(n);
  }
}
