/**
 * Flow-control metrics with llm-d's names (`llm_d_epp_flow_control_*`) and, where llm-d still emits them,
 * the deprecated `inference_extension_flow_control_*` twins. The request path only bumps plain numbers on
 * a per-series record (no label hashing per request); gauges and counters are filled in when Prometheus
 * scrapes. `fairness_id` and the model labels are capped at 1000 values each ("other" beyond), as llm-d's are.
 */
import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';
import { FastHistogram } from '../observability/fast-histogram.js';
import type { Outcome } from './outcomes.js';

export const LABEL_VALUE_CAP = 1000;
const OTHER = 'other';

const QUEUE_DURATION_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
const FAST_BUCKETS = [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1];
const PREFIXES = ['llm_d_epp_', 'inference_extension_'] as const;

export interface SeriesKey {
  readonly fairnessId: string;
  readonly priority: number;
  readonly modelName: string;
  readonly targetModelName: string;
}

/** What the controller reports; `tag` is the value `series` returned for the request. */
export interface FlowControlObserver {
  series(key: SeriesKey): unknown;
  enqueued(tag: unknown, bytes: number, seconds: number): void;
  dequeued(tag: unknown, bytes: number): void;
  /** A request left flow control (dispatched, rejected or evicted) after `seconds` in it. */
  finished(tag: unknown, outcome: Outcome, seconds: number): void;
  cycle(seconds: number): void;
  revocationsIssued?(priority: number, n: number): void;
  revocationEnded?(outcome: 'confirmed' | 'timed_out', seconds: number): void;
  reclaim?(target: number, pending: number): void;
}

export const nullFlowObserver: FlowControlObserver = {
  series: () => undefined,
  enqueued: () => {},
  dequeued: () => {},
  finished: () => {},
  cycle: () => {},
};

/** What the scrape-time gauges read from the controller. */
export interface FlowControlState {
  saturation(): { prefill: number; decode: number; effective: number };
  staleEndpoints(): number | undefined;
  bands(): Iterable<{ priority: number; len: number; bytes: number; maxRequests: number; maxBytes: number }>;
  global(): { len: number; bytes: number; maxRequests: number; maxBytes: number };
}

interface Series {
  readonly labels: { fairness_id: string; priority: string; inference_pool: string; model_name: string; target_model_name: string };
  count: number;
  bytes: number;
  readonly byOutcome: Map<string, (v: number) => void>;
  readonly enqueue: (v: number) => void;
}

/** Caps the distinct values of one label. */
class CappedLabel {
  readonly #seen = new Set<string>();
  value(v: string): string {
    if (this.#seen.has(v)) return v;
    if (this.#seen.size >= LABEL_VALUE_CAP) return OTHER;
    this.#seen.add(v);
    return v;
  }
}

export class PromFlowControlMetrics implements FlowControlObserver {
  readonly #pool: string;
  readonly #series = new Map<string, Series>();
  readonly #fairness = new CappedLabel();
  readonly #models = new CappedLabel();
  readonly #queueDuration: FastHistogram[];
  readonly #enqueueDuration: FastHistogram[];
  readonly #cycle: ((v: number) => void)[];
  readonly #totals = new Map<string, { outcome: string; priority: string; pending: number }>();
  readonly #revocationsIssued = new Map<string, number>();
  readonly #revocations = new Map<string, number>();
  readonly #revocationSeconds: FastHistogram;
  #reclaimTarget = 0;
  #pendingReclaim = 0;

  constructor(registry: PromRegistry, poolName: string, state: FlowControlState) {
    this.#pool = poolName;
    const registers = [registry];
    const series = this.#series;
    const pool = poolName;
    const help = (p: string, text: string, name: string) => (p === 'llm_d_epp_' ? text : `[Deprecated: Use llm_d_epp_${name}] ${text}`);
    const seriesLabels = ['fairness_id', 'priority', 'inference_pool', 'model_name', 'target_model_name'] as const;
    this.#queueDuration = PREFIXES.map(
      (p) =>
        new FastHistogram({
          name: `${p}flow_control_request_queue_duration_seconds`,
          help: help(p, 'Distribution of total time requests spend in the Flow Control layer (from enqueue to final outcome).', 'flow_control_request_queue_duration_seconds'),
          labelNames: ['fairness_id', 'priority', 'outcome', 'inference_pool', 'model_name', 'target_model_name'],
          buckets: QUEUE_DURATION_BUCKETS,
          registers,
        }),
    );
    this.#enqueueDuration = PREFIXES.map(
      (p) =>
        new FastHistogram({
          name: `${p}flow_control_request_enqueue_duration_seconds`,
          help: help(p, 'Distribution of time taken to enqueue requests into the Flow Control layer.', 'flow_control_request_enqueue_duration_seconds'),
          labelNames: ['fairness_id', 'priority', 'outcome'],
          buckets: FAST_BUCKETS,
          registers,
        }),
    );
    this.#cycle = PREFIXES.map((p) =>
      new FastHistogram({
        name: `${p}flow_control_dispatch_cycle_duration_seconds`,
        help: help(p, 'Distribution of time taken for each internal dispatch cycle in the Flow Control layer.', 'flow_control_dispatch_cycle_duration_seconds'),
        labelNames: [],
        buckets: FAST_BUCKETS,
        registers,
      }).bind({}),
    );
    for (const p of PREFIXES) {
      new Gauge({
        name: `${p}flow_control_queue_size`,
        help: help(p, 'Current number of requests actively held in the Flow Control queue.', 'flow_control_queue_size'),
        labelNames: seriesLabels,
        registers,
        collect() {
          this.reset();
          for (const s of series.values()) this.set(s.labels, s.count);
        },
      });
      new Gauge({
        name: `${p}flow_control_queue_bytes`,
        help: help(p, 'Current total size in bytes of requests actively held in the Flow Control queue.', 'flow_control_queue_bytes'),
        labelNames: seriesLabels,
        registers,
        collect() {
          this.reset();
          for (const s of series.values()) this.set(s.labels, s.bytes);
        },
      });
      new Gauge({
        name: `${p}flow_control_pool_saturation`,
        help: help(p, "Pool saturation signal gating Flow Control dispatch. 'prefill' and 'decode' are per-stage signals, 'effective' is max(prefill, decode) and is the value used for gating; 1.0 is the gating set point. An empty pool reads as 1.0.", 'flow_control_pool_saturation'),
        labelNames: ['inference_pool', 'stage'],
        registers,
        collect() {
          this.reset();
          const s = state.saturation();
          if (s.prefill >= 0) this.set({ inference_pool: pool, stage: 'prefill' }, s.prefill);
          if (s.decode >= 0) this.set({ inference_pool: pool, stage: 'decode' }, s.decode);
          this.set({ inference_pool: pool, stage: 'effective' }, s.effective);
        },
      });
    }
    new Gauge({
      name: 'llm_d_epp_flow_control_stale_endpoints',
      help: 'Number of endpoints whose metrics the saturation detector considers stale (they count as fully saturated).',
      labelNames: ['detector'],
      registers,
      collect() {
        this.reset();
        const n = state.staleEndpoints();
        if (n !== undefined) this.set({ detector: 'utilization-detector' }, n);
      },
    });
    for (const [what, field, max] of [['requests', 'len', 'maxRequests'], ['bytes', 'bytes', 'maxBytes']] as const) {
      new Gauge({
        name: `llm_d_epp_flow_control_capacity_utilization_${what}`,
        help: `Fraction of each priority band's ${what === 'requests' ? 'request-count' : 'byte-size'} capacity currently occupied across every flow in the band (0.0-1.0).`,
        labelNames: ['priority', 'inference_pool'],
        registers,
        collect() {
          this.reset();
          for (const b of state.bands()) if (b[max] > 0) this.set({ priority: String(b.priority), inference_pool: pool }, b[field] / b[max]);
        },
      });
      new Gauge({
        name: `llm_d_epp_flow_control_global_capacity_utilization_${what}`,
        help: `Fraction of the global ${what === 'requests' ? 'request-count' : 'byte-size'} capacity currently occupied across all priority bands (0.0-1.0).`,
        labelNames: ['inference_pool'],
        registers,
        collect() {
          this.reset();
          const g = state.global();
          if (g[max] > 0) this.set({ inference_pool: pool }, g[field] / g[max]);
        },
      });
    }
    const totals = this.#totals;
    new Counter({
      name: 'llm_d_epp_flow_control_requests_total',
      help: 'Total number of requests processed by the Flow Control layer.',
      labelNames: ['outcome', 'priority', 'inference_pool'],
      registers,
      collect() {
        for (const t of totals.values()) {
          this.inc({ outcome: t.outcome, priority: t.priority, inference_pool: pool }, t.pending);
          t.pending = 0;
        }
      },
    });
    const issued = this.#revocationsIssued;
    new Counter({
      name: 'llm_d_epp_flow_control_revocations_issued_total',
      help: "Total number of in-flight eviction revocations issued, labeled by the demand band's priority.",
      labelNames: ['priority', 'inference_pool'],
      registers,
      collect() {
        for (const [priority, n] of issued) this.inc({ priority, inference_pool: pool }, n);
        issued.clear();
      },
    });
    const ended = this.#revocations;
    new Counter({
      name: 'llm_d_epp_flow_control_revocations_total',
      help: 'Total number of in-flight eviction revocations by terminal outcome (confirmed, timed_out).',
      labelNames: ['outcome', 'inference_pool'],
      registers,
      collect() {
        for (const [outcome, n] of ended) this.inc({ outcome, inference_pool: pool }, n);
        ended.clear();
      },
    });
    const self = this;
    new Gauge({
      name: 'llm_d_epp_flow_control_reclaim_target',
      help: 'Last computed reclamation deficit, in saturation-gauge units.',
      labelNames: ['inference_pool'],
      registers,
      collect() {
        this.set({ inference_pool: pool }, self.#reclaimTarget);
      },
    });
    new Gauge({
      name: 'llm_d_epp_flow_control_pending_reclaim',
      help: 'Sum of outstanding and cooling pending-reclaim debits, in saturation-gauge units.',
      labelNames: ['inference_pool'],
      registers,
      collect() {
        this.set({ inference_pool: pool }, self.#pendingReclaim);
      },
    });
    this.#revocationSeconds = new FastHistogram({
      name: 'llm_d_epp_flow_control_revocation_confirmation_seconds',
      help: 'Time from revocation issue to confirmed stream termination.',
      labelNames: ['inference_pool'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  series(key: SeriesKey): Series {
    const fairness = this.#fairness.value(key.fairnessId);
    const model = this.#models.value(key.modelName);
    const target = this.#models.value(key.targetModelName);
    const id = `${fairness}\u0000${key.priority}\u0000${model}\u0000${target}`;
    let s = this.#series.get(id);
    if (!s) {
      const priority = String(key.priority);
      const enqueue = this.#enqueueDuration.map((h) => h.bind({ fairness_id: fairness, priority, outcome: 'NotYetFinalized' }));
      s = {
        labels: { fairness_id: fairness, priority, inference_pool: this.#pool, model_name: model, target_model_name: target },
        count: 0,
        bytes: 0,
        byOutcome: new Map(),
        enqueue: (v) => {
          for (const r of enqueue) r(v);
        },
      };
      this.#series.set(id, s);
    }
    return s;
  }

  enqueued(tag: unknown, bytes: number, seconds: number): void {
    const s = tag as Series;
    s.count++;
    s.bytes += bytes;
    s.enqueue(seconds);
  }

  dequeued(tag: unknown, bytes: number): void {
    const s = tag as Series;
    s.count--;
    s.bytes -= bytes;
  }

  finished(tag: unknown, outcome: Outcome, seconds: number): void {
    const s = tag as Series;
    let record = s.byOutcome.get(outcome);
    if (!record) {
      const recorders = this.#queueDuration.map((h) => h.bind({ ...s.labels, outcome }));
      record = (v) => {
        for (const r of recorders) r(v);
      };
      s.byOutcome.set(outcome, record);
    }
    record(seconds);
    const key = `${outcome}\u0000${s.labels.priority}`;
    let total = this.#totals.get(key);
    if (!total) this.#totals.set(key, (total = { outcome, priority: s.labels.priority, pending: 0 }));
    total.pending++;
  }

  cycle(seconds: number): void {
    for (const r of this.#cycle) r(seconds);
  }

  revocationsIssued(priority: number, n: number): void {
    const key = String(priority);
    this.#revocationsIssued.set(key, (this.#revocationsIssued.get(key) ?? 0) + n);
  }

  revocationEnded(outcome: 'confirmed' | 'timed_out', seconds: number): void {
    this.#revocations.set(outcome, (this.#revocations.get(outcome) ?? 0) + 1);
    if (outcome === 'confirmed') this.#revocationSeconds.bind({ inference_pool: this.#pool })(seconds);
  }

  reclaim(target: number, pending: number): void {
    this.#reclaimTarget = target;
    this.#pendingReclaim = pending;
  }
}
