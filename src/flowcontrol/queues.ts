/**
 * The queue structures: a band per priority, in each band one queue per flow (fairness ID), each queue a
 * RunQueue ordered by the band's ordering policy. A flow exists only while it holds requests, so idle
 * fairness IDs cost nothing; the band keeps its flow IDs sorted for round-robin turns.
 */
import type { BandView, FairnessPolicy, FlowQueueView, OrderingPolicy, QueuedRequest } from '../framework/flow-control.js';
import { RunQueue } from './run-queue.js';

/** One waiting request. The controller owns every field. */
export class QueueItem implements QueuedRequest {
  /** Position in its flow's queue and in the expiry queue (owned by those RunQueues). */
  orderIndex = -1;
  expiryIndex = -1;
  /** When the expiry timer should evict it (performance.now ms); Infinity = never. */
  expiresAt = Infinity;
  queued = true;
  settled = false;
  result: unknown;
  error: unknown;
  resolve: ((value: unknown) => void) | undefined;
  reject: ((error: unknown) => void) | undefined;
  /** The stream's cancel hook while the request waits; unhooked when it settles. */
  cancelHook: { onCancel: (() => void) | undefined } | undefined;

  constructor(
    readonly seq: number,
    readonly requestId: string,
    readonly fairnessId: string,
    readonly priority: number,
    readonly enqueuedAt: number,
    readonly ttlMs: number,
    /** The caller's own deadline (performance.now ms); Infinity when it has none. */
    readonly callerDeadline: number,
    readonly receivedAt: number,
    readonly byteSize: number,
    readonly headers: Readonly<Record<string, string>>,
    readonly flow: Flow,
    readonly dispatch: () => unknown,
    /** Opaque per-item data of the metrics layer (its label series). */
    readonly tag: unknown,
  ) {}
}

export class Flow implements FlowQueueView {
  readonly queue: RunQueue<QueueItem>;

  constructor(
    readonly id: string,
    readonly band: Band,
  ) {
    const ordering = band.ordering;
    // The policy's order, ties first-come-first-served (seq is unique and increasing).
    this.queue = new RunQueue<QueueItem>((a, b) => (ordering.less(a, b) ? true : ordering.less(b, a) ? false : a.seq < b.seq), 'orderIndex');
  }

  get length(): number {
    return this.queue.size;
  }

  head(): QueuedRequest {
    return this.queue.peek()!;
  }
}

export class Band implements BandView {
  /** Queued requests and their body bytes. */
  len = 0;
  bytes = 0;
  readonly state: unknown;
  readonly #flows = new Map<string, Flow>();
  /** Flow IDs in code-unit order, for round-robin turns. */
  readonly #ids: string[] = [];

  constructor(
    readonly priority: number,
    readonly ordering: OrderingPolicy,
    readonly fairness: FairnessPolicy,
    readonly maxRequests: number,
    readonly maxBytes: number,
    /** Configured bands (and band 0) always exist; others are made from a template on first use. */
    readonly configured: boolean,
  ) {
    this.state = fairness.newState();
  }

  get flowCount(): number {
    return this.#flows.size;
  }

  flows(): Iterable<FlowQueueView> {
    return this.#flows.values();
  }

  flowAfter(id: string | undefined): FlowQueueView | undefined {
    const ids = this.#ids;
    if (ids.length === 0) return undefined;
    if (id === undefined) return this.#flows.get(ids[0]!);
    const i = upperBound(ids, id);
    return this.#flows.get(ids[i < ids.length ? i : 0]!);
  }

  /** The flow for `id`, created when absent. */
  flowFor(id: string): Flow {
    let flow = this.#flows.get(id);
    if (!flow) {
      flow = new Flow(id, this);
      this.#flows.set(id, flow);
      this.#ids.splice(upperBound(this.#ids, id), 0, id);
    }
    return flow;
  }

  /** Drops a flow that emptied. */
  dropFlow(flow: Flow): void {
    if (this.#flows.get(flow.id) !== flow) return;
    this.#flows.delete(flow.id);
    const i = upperBound(this.#ids, flow.id) - 1;
    if (this.#ids[i] === flow.id) this.#ids.splice(i, 1);
  }
}

/** The index of the first element greater than `key` in a sorted array. */
function upperBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
