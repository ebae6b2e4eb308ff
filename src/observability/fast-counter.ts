/**
 * Prometheus counters and gauges for the request path (the same reasoning as FastHistogram: prom-client
 * hashes the label object on every `inc`, and a request makes several). A label set's value is found
 * through nested maps, or bound once. Registers with a prom-client Registry and renders as prom-client's
 * Counter / Gauge do (a test compares the text).
 */
import type { Registry } from 'prom-client';
import { LabelSeries } from './label-series.js';

export interface FastCounterOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly registers: readonly Registry[];
}

interface Cell {
  value: number;
}

class FastScalar<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  protected readonly series: LabelSeries<L, Cell>;

  constructor(o: FastCounterOptions<L>, readonly type: 'counter' | 'gauge') {
    this.name = o.name;
    this.help = o.help;
    this.series = new LabelSeries(o.labelNames, () => ({ value: 0 }));
    if (o.labelNames.length === 0) this.series.of({} as Record<L, string>); // as prom-client: an unlabelled metric starts at 0
    for (const r of o.registers) r.registerMetric(this as never);
  }

  /** The cell of one label set; keep it and add to `.value` per event. */
  bind(labels: Readonly<Record<L, string>>): Cell {
    return this.series.of(labels);
  }

  getForPromString(): { name: string; help: string; type: 'counter' | 'gauge'; values: { value: number; labels: Record<string, string> }[]; aggregator: 'sum' } {
    const values = [];
    for (const { labels, series } of this.series.entries()) values.push({ value: series.value, labels: { ...labels } });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  get() {
    return this.getForPromString();
  }

  remove(labels: Readonly<Record<L, string>>): void {
    this.series.remove(labels);
  }

  reset(): void {
    for (const { series } of this.series.entries()) series.value = 0;
  }
}

export class FastCounter<L extends string = string> extends FastScalar<L> {
  constructor(o: FastCounterOptions<L>) {
    super(o, 'counter');
  }

  inc(labels: Readonly<Record<L, string>>, by = 1): void {
    if (!(by >= 0) || !Number.isFinite(by)) throw new RangeError(`${this.name}: a counter only grows (got ${by})`);
    this.series.of(labels).value += by;
  }
}

export class FastGauge<L extends string = string> extends FastScalar<L> {
  constructor(o: FastCounterOptions<L>) {
    super(o, 'gauge');
  }

  inc(labels: Readonly<Record<L, string>>, by = 1): void {
    this.series.of(labels).value += by;
  }

  dec(labels: Readonly<Record<L, string>>, by = 1): void {
    this.series.of(labels).value -= by;
  }

  set(labels: Readonly<Record<L, string>>, value: number): void {
    this.series.of(labels).value = value;
  }
}
