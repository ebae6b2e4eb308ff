/**
 * A Prometheus histogram for the request path. prom-client's `observe` validates and hashes its label
 * object on every call, ~1-2 µs, and a request makes about fifteen observations (every plugin, the
 * cycle, sizes, tokens): ~5% of the EPP's CPU at 4 KB (bench/server.bench.ts profile). Here a label set
 * is bound once to its counters, so an observation is a bucket scan and three additions. It registers
 * with a prom-client Registry like any metric and renders exactly as prom-client's Histogram does (a test
 * compares the text).
 */
import type { Registry } from 'prom-client';

interface Series {
  readonly labels: Readonly<Record<string, string>>;
  /** Per bucket (not cumulative), the last one for +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export interface FastHistogramOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly buckets: readonly number[];
  readonly registers: readonly Registry[];
}

interface ValuePair {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
  sharedLabels?: Record<string, string>;
  exemplar: null | undefined;
}

export class FastHistogram<L extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly #labelNames: readonly L[];
  readonly #bounds: Float64Array;
  readonly #series = new Map<string, Series>();
  /** label value → … → Series, one level per label name. */
  #byValue = new Map<string, unknown>();

  constructor(o: FastHistogramOptions<L>) {
    this.name = o.name;
    this.help = o.help;
    this.#labelNames = o.labelNames;
    this.#bounds = Float64Array.from([...o.buckets].sort((a, b) => a - b));
    for (const r of o.registers) r.registerMetric(this as never);
  }

  /** A recorder for one label set; keep it and call it per observation. */
  bind(labels: Readonly<Record<L, string>>): (value: number) => void {
    const s = this.#seriesFor(labels);
    const bounds = this.#bounds;
    return (value: number) => {
      if (!Number.isFinite(value)) return;
      let i = 0;
      while (i < bounds.length && value > bounds[i]!) i++;
      s.counts[i]!++;
      s.sum += value;
      s.count++;
    };
  }

  observe(labels: Readonly<Record<L, string>>, value: number): void {
    if (!Number.isFinite(value)) return;
    const s = this.#seriesFor(labels);
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  #seriesFor(labels: Readonly<Record<L, string>>): Series {
    // Per observation: nested maps by label value (no key string built); the flat map is for rendering.
    const names = this.#labelNames;
    let node = this.#byValue;
    for (let i = 0; i < names.length - 1; i++) {
      const v = String(labels[names[i]!]);
      let next = node.get(v) as Map<string, unknown> | undefined;
      if (!next) node.set(v, (next = new Map()));
      node = next;
    }
    const last = names.length > 0 ? String(labels[names[names.length - 1]!]) : '';
    const cached = node.get(last) as Series | undefined;
    if (cached) return cached;
    const s = this.#create(labels);
    node.set(last, s);
    return s;
  }

  #create(labels: Readonly<Record<L, string>>): Series {
    let key = '';
    for (const n of this.#labelNames) key += `${labels[n]}\u0000`;
    let s = this.#series.get(key);
    if (!s) {
      const own: Record<string, string> = {};
      for (const n of this.#labelNames) own[n] = String(labels[n]);
      s = { labels: own, counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    return s;
  }

  /** What prom-client's Registry renders (the same layout as its Histogram: `le` first, then the labels). */
  getForPromString(): { name: string; help: string; type: 'histogram'; values: ValuePair[]; aggregator: 'sum' } {
    const values: ValuePair[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.#series.values()) {
      let acc = 0;
      this.#bounds.forEach((le, i) => {
        acc += s.counts[i]!;
        values.push({ value: acc, labels: { le }, metricName: bucket, sharedLabels: s.labels, exemplar: null });
      });
      values.push({ value: s.count, labels: { le: '+Inf' }, metricName: bucket, sharedLabels: s.labels, exemplar: null });
      values.push({ value: s.sum, labels: {}, metricName: `${this.name}_sum`, sharedLabels: s.labels, exemplar: undefined });
      values.push({ value: s.count, labels: {}, metricName: `${this.name}_count`, sharedLabels: s.labels, exemplar: undefined });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The JSON form (labels merged), as prom-client's `get`. */
  get() {
    const data = this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, ...v }) => ({ ...v, labels: { ...v.labels, ...sharedLabels } })) };
  }

  /** Drops one label set's series (its bound recorders then count into nothing that is rendered). */
  remove(labels: Readonly<Record<L, string>>): void {
    let key = '';
    for (const n of this.#labelNames) key += `${labels[n]}\u0000`;
    this.#series.delete(key);
    this.#byValue = new Map(); // rebuilt lazily from #series (removal is rare: a pod leaving)
  }

  /** Zeroes every series in place, so recorders already bound keep counting into the live series. */
  reset(): void {
    for (const s of this.#series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
