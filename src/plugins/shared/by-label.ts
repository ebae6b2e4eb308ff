/** Keeps the endpoints whose label `label` has one of the valid values (or, if allowed, no such label). */
import type { Endpoint } from '../../framework/endpoint.js';
import type { Filter } from '../../framework/scheduling.js';

export class ByLabelFilter implements Filter {
  readonly #valid: ReadonlySet<string>;
  constructor(
    readonly type: string,
    readonly name: string,
    readonly label: string,
    validValues: readonly string[],
    readonly allowsNoLabel: boolean,
  ) {
    this.#valid = new Set(validValues);
  }

  filter(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const out: Endpoint[] = [];
    for (const e of endpoints) {
      const v = e.metadata.labels[this.label];
      if (v === undefined ? this.allowsNoLabel : this.#valid.has(v)) out.push(e);
    }
    return out.length === endpoints.length ? endpoints : out;
  }
}
