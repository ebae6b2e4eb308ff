/**
 * One value per label set, found per call without building a key string: nested maps by label value,
 * one level per label name (prom-client validates and hashes the label object on every call, ~1-2 µs).
 * The flat map keeps the series in creation order for rendering. Used by FastHistogram and FastCounter.
 */
export class LabelSeries<L extends string, S> {
  readonly #labelNames: readonly L[];
  readonly #make: (labels: Readonly<Record<string, string>>) => S;
  readonly #flat = new Map<string, { labels: Readonly<Record<string, string>>; series: S }>();
  /** label value → … → series. */
  #byValue = new Map<string, unknown>();

  constructor(labelNames: readonly L[], make: (labels: Readonly<Record<string, string>>) => S) {
    this.#labelNames = labelNames;
    this.#make = make;
  }

  /** The series of `labels`, made on first use. */
  of(labels: Readonly<Record<L, string>>): S {
    const names = this.#labelNames;
    let node = this.#byValue;
    for (let i = 0; i < names.length - 1; i++) {
      const v = String(labels[names[i]!]);
      let next = node.get(v) as Map<string, unknown> | undefined;
      if (!next) node.set(v, (next = new Map()));
      node = next;
    }
    const last = names.length > 0 ? String(labels[names[names.length - 1]!]) : '';
    const cached = node.get(last) as S | undefined;
    if (cached !== undefined) return cached;
    const s = this.#create(labels);
    node.set(last, s);
    return s;
  }

  #create(labels: Readonly<Record<L, string>>): S {
    const key = this.#keyOf(labels);
    let entry = this.#flat.get(key);
    if (!entry) {
      const own: Record<string, string> = {};
      for (const n of this.#labelNames) own[n] = String(labels[n]);
      entry = { labels: own, series: this.#make(own) };
      this.#flat.set(key, entry);
    }
    return entry.series;
  }

  #keyOf(labels: Readonly<Record<L, string>>): string {
    let key = '';
    for (const n of this.#labelNames) key += `${labels[n]}\u0000`;
    return key;
  }

  /** Every series with its labels, in creation order. */
  entries(): IterableIterator<{ labels: Readonly<Record<string, string>>; series: S }> {
    return this.#flat.values();
  }

  /** Drops one label set (a series already handed out keeps working but is no longer listed). */
  remove(labels: Readonly<Record<L, string>>): void {
    this.#flat.delete(this.#keyOf(labels));
    this.#byValue = new Map(); // rebuilt lazily from #flat (removal is rare: a pod leaving)
  }

  clear(): void {
    this.#flat.clear();
    this.#byValue = new Map();
  }
}
