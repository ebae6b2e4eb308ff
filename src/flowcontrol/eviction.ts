/**
 * Opt-in eviction of in-flight sheddable requests (`flowControl.enableEviction`), as llm-d does it: when a
 * dispatch cycle is held back by a band's ceiling while a more important band has requests waiting, up to
 * two in-flight requests with priority < 0 (lowest priority first, then the most recently dispatched) get a
 * 429 on their stream, freeing their share of the pool. Only one decision is outstanding at a time: the
 * next waits until every evicted stream has ended (or 10 s passed) and a grace period has let the detector
 * see the freed capacity.
 */
import { IndexedHeap } from './heap.js';
import type { BlockedCycleListener } from './controller.js';
import type { FlowControlObserver } from './metrics.js';

export const MAX_REVOCATIONS_PER_DECISION = 2;
export const CONFIRMATION_TIMEOUT_MS = 10_000;
/** Grace after a confirmed eviction when the detector counts in-flight requests itself. */
export const LEADING_SENSOR_GRACE_MS = 10;
/** Added to refresh interval + staleness for scraped detectors: the engine's time to reclaim. */
export const ENGINE_RECLAIM_BUDGET_MS = 250;

/** An in-flight request that can be told to stop. */
export interface Evictable {
  readonly priority: number;
  evict(): void;
}

interface Tracked {
  readonly request: Evictable;
  readonly priority: number;
  readonly dispatchedAt: number;
  readonly seq: number;
  heapIndex: number;
}

/** In-flight requests dispatched through flow control; the sheddable ones are eviction candidates. */
export class InFlightRequests {
  readonly #all = new Map<Evictable, Tracked>();
  /** Lowest priority first, then the newest dispatch first. */
  readonly #victims = new IndexedHeap<Tracked>((a, b) => (a.priority !== b.priority ? a.priority < b.priority : a.seq > b.seq), 'heapIndex');
  #seq = 0;

  get inFlight(): number {
    return this.#all.size;
  }

  get evictable(): number {
    return this.#victims.size;
  }

  track(request: Evictable, now: number): void {
    if (this.#all.has(request)) return;
    const t: Tracked = { request, priority: request.priority, dispatchedAt: now, seq: this.#seq++, heapIndex: -1 };
    this.#all.set(request, t);
    if (request.priority < 0) this.#victims.push(t);
  }

  untrack(request: Evictable): boolean {
    const t = this.#all.get(request);
    if (!t) return false;
    this.#all.delete(request);
    this.#victims.remove(t);
    return true;
  }

  victimPriority(): number | undefined {
    return this.#victims.peek()?.priority;
  }

  /** Takes up to `n` victims with priority below `bound`, lowest first; they stay counted in flight until untracked. */
  take(n: number, bound: number): Evictable[] {
    const out: Evictable[] = [];
    while (out.length < n) {
      const t = this.#victims.peek();
      if (!t || t.priority >= bound) break;
      this.#victims.remove(t);
      out.push(t.request);
    }
    return out;
  }
}

/** Decides when to evict and how many (llm-d's ReclamationController). */
export class Reclaimer implements BlockedCycleListener {
  readonly #inFlight: InFlightRequests;
  readonly #graceMs: number;
  readonly #now: () => number;
  readonly #observer: FlowControlObserver;
  readonly #outstanding = new Map<Evictable, { credit: number; issuedAt: number }>();
  #cooling: { credit: number; until: number }[] = [];
  #pending = 0;

  constructor(inFlight: InFlightRequests, graceMs: number, now: () => number, observer: FlowControlObserver) {
    this.#inFlight = inFlight;
    this.#graceMs = graceMs;
    this.#now = now;
    this.#observer = observer;
  }

  /** Revocations issued and not yet confirmed or cooled down. */
  get outstanding(): number {
    return this.#outstanding.size;
  }

  blocked(saturation: number, priorities: readonly number[], ceilings: readonly number[], blockedAt: number, queuedIn: (priority: number) => number): void {
    const now = this.#now();
    if (!this.#gateOpen(now)) return;
    const victim = this.#inFlight.victimPriority();
    if (victim === undefined) return;
    for (let j = blockedAt; j < priorities.length; j++) {
      const p = priorities[j]!;
      if (p <= victim) return;
      if (ceilings[j]! <= 0 || saturation < ceilings[j]! || queuedIn(p) === 0) continue;
      this.#reclaim(saturation, ceilings[j]!, p, now);
      return;
    }
  }

  /** An in-flight request ended; if it was evicted, its revocation is confirmed and starts cooling. */
  ended(request: Evictable): void {
    const r = this.#outstanding.get(request);
    if (!r) return;
    this.#outstanding.delete(request);
    const now = this.#now();
    this.#cooling.push({ credit: r.credit, until: now + this.#graceMs });
    this.#observer.revocationEnded?.('confirmed', (now - r.issuedAt) / 1000);
  }

  #reclaim(saturation: number, ceiling: number, demandPriority: number, now: number): void {
    const inFlight = this.#inFlight.inFlight;
    const evictable = this.#inFlight.evictable;
    if (inFlight <= 0 || evictable <= 0) return;
    const credit = saturation / inFlight;
    if (!(credit > 0) || !Number.isFinite(credit)) return;
    const target = saturation - ceiling;
    const net = target - this.#pending;
    this.#observer.reclaim?.(target, this.#pending);
    if (net < 0 || (net === 0 && this.#pending > 0)) return;
    const n = Math.min(Math.max(1, Math.ceil(net / credit)), MAX_REVOCATIONS_PER_DECISION, evictable);
    const victims = this.#inFlight.take(n, demandPriority);
    for (const v of victims) {
      this.#outstanding.set(v, { credit, issuedAt: now });
      this.#pending += credit;
    }
    if (victims.length > 0) this.#observer.revocationsIssued?.(demandPriority, victims.length);
    this.#observer.reclaim?.(target, this.#pending);
    for (const v of victims) v.evict();
  }

  #gateOpen(now: number): boolean {
    for (const [request, r] of this.#outstanding) {
      if (now - r.issuedAt < CONFIRMATION_TIMEOUT_MS) continue;
      this.#outstanding.delete(request);
      this.#cooling.push({ credit: r.credit, until: now + this.#graceMs });
      this.#observer.revocationEnded?.('timed_out', 0);
    }
    if (this.#cooling.length > 0) {
      const kept = this.#cooling.filter((d) => d.until > now);
      for (const d of this.#cooling) if (d.until <= now) this.#pending -= d.credit;
      if (this.#pending < 0) this.#pending = 0;
      this.#cooling = kept;
    }
    return this.#outstanding.size === 0 && this.#cooling.length === 0;
  }
}
