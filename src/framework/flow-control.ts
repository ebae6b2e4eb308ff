/**
 * Flow-control policy contracts (llm-d's `flowControl` layer): requests wait in the EPP in priority bands,
 * each band holding one queue per flow (fairness ID). Three kinds of policy plugin shape the waiting:
 * an OrderingPolicy orders requests within a flow, a FairnessPolicy picks which flow of a band goes next,
 * and a UsageLimitPolicy sets each band's saturation ceiling. The runtime lives in src/flowcontrol/.
 */
import type { Plugin } from './plugin.js';

/** What policies may read of a queued request. Times are milliseconds on the `performance.now()` clock. */
export interface QueuedRequest {
  readonly requestId: string;
  readonly fairnessId: string;
  readonly priority: number;
  /** When it entered the queue. */
  readonly enqueuedAt: number;
  /** Its queue-wait budget; 0 means none. */
  readonly ttlMs: number;
  /** When its request headers arrived at the EPP. */
  readonly receivedAt: number;
  /** Raw body length. */
  readonly byteSize: number;
  /** Lower-case request header names. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Orders the requests of one flow; the runtime breaks ties first-come-first-served. */
export interface OrderingPolicy extends Plugin {
  /** True when `a` should be dispatched before `b`. */
  less(a: QueuedRequest, b: QueuedRequest): boolean;
}

/** One flow's queue as a fairness policy sees it; the runtime shows policies only non-empty flows. */
export interface FlowQueueView {
  /** The fairness ID. */
  readonly id: string;
  readonly length: number;
  /** The request the band's ordering policy would dispatch next. */
  head(): QueuedRequest;
}

/** One priority band as a fairness policy sees it. */
export interface BandView {
  readonly priority: number;
  readonly ordering: OrderingPolicy;
  /** Its non-empty flows, in no particular order. */
  flows(): Iterable<FlowQueueView>;
  /** The first non-empty flow whose ID sorts after `id` (wrapping round); the first by ID when `id` is undefined. */
  flowAfter(id: string | undefined): FlowQueueView | undefined;
  /** The fairness policy's own state for this band (from `newState`). */
  readonly state: unknown;
}

/** Chooses which flow of a band dispatches next. */
export interface FairnessPolicy extends Plugin {
  /** Per-band state, created once when the band is. */
  newState(): unknown;
  /** The flow to dispatch from, or undefined to dispatch nothing from this band now. */
  pick(band: BandView): FlowQueueView | undefined;
}

/**
 * Sets each band's saturation ceiling for one dispatch cycle: a band dispatches only while the pool's
 * saturation is below its ceiling. `priorities` are highest first; `ceilings` arrives filled with 1.0.
 */
export interface UsageLimitPolicy extends Plugin {
  computeLimit(saturation: number, priorities: readonly number[], ceilings: number[]): void;
}

export function isOrderingPolicy(p: Plugin): p is OrderingPolicy {
  return typeof (p as Partial<OrderingPolicy>).less === 'function';
}
export function isFairnessPolicy(p: Plugin): p is FairnessPolicy {
  return typeof (p as Partial<FairnessPolicy>).pick === 'function' && typeof (p as Partial<FairnessPolicy>).newState === 'function';
}
export function isUsageLimitPolicy(p: Plugin): p is UsageLimitPolicy {
  return typeof (p as Partial<UsageLimitPolicy>).computeLimit === 'function';
}
