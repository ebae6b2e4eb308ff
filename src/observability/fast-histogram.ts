/**
 * A Prometheus histogram for the request path. prom-client's `observe` validates and hashes its label
 * object on every call, ~1-2 µs, and a request makes about fifteen observations (every plugin, the
 * cycle, sizes, tokens): ~5% of the EPP's CPU at 4 KB (bench/server.bench.ts profile). Here a label set
 * is bound once to its counters, so an observation is a bucket scan and three additions. It registers
 * with a prom-client Registry like any metric and renders exactly as prom-client's Histogram does (a test
 * compares the text).
 */
import type { Registry } from 'prom-client';
import { LabelSeries } from './label-series.js';

interface Series {
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
  readonly #bounds: Float64Array;
  readonly #series: LabelSeries<L, Series>;

  constructor(o: FastHistogramOptions<L>) {
    this.name = o.name;
    this.help = o.help;
    this.#bounds = Float64Array.from([...o.buckets].sort((a, b) => a - b));
    const slots = this.#bounds.length + 1;
    this.#series = new LabelSeries(o.labelNames, () => ({ counts: new Float64Array(slots), sum: 0, count: 0 }));
    for (const r of o.registers) r.registerMetric(this as never);
  }

  /** A recorder for one label set; keep it and call it per observation. */
  bind(labels: Readonly<Record<L, string>>): (value: number) => void {
    const s = this.#series.of(labels);
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
    const s = this.#series.of(labels);
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** What prom-client's Registry renders (the same layout as its Histogram: `le` first, then the labels). */
  getForPromString(): { name: string; help: string; type: 'histogram'; values: ValuePair[]; aggregator: 'sum' } {
    const values: ValuePair[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, series: s } of this.#series.entries()) {
      let acc = 0;
      this.#bounds.forEach((le, i) => {
        acc += s.counts[i]!;
        values.push({ value: acc, labels: { le }, metricName: bucket, sharedLabels: labels, exemplar: null });
      });
      values.push({ value: s.count, labels: { le: '+Inf' }, metricName: bucket, sharedLabels: labels, exemplar: null });
      values.push({ value: s.sum, labels: {}, metricName: `${this.name}_sum`, sharedLabels: labels, exemplar: undefined });
      values.push({ value: s.count, labels: {}, metricName: `${this.name}_count`, sharedLabels: labels, exemplar: undefined });
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
    this.#series.remove(labels);
  }

  /** Zeroes every series in place, so recorders already bound keep counting into the live series. */
  reset(): void {
    for (const { series: s } of this.#series.entries()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
