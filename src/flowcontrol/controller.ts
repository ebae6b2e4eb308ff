/**
 * The flow controller: requests wait here, in priority bands and flows, until the pool has room.
 *
 * Dispatch is driven by events, never by a polling loop: an enqueue runs a dispatch pass at once (so an
 * unsaturated pool adds no latency), and `kick()` (a request ended, metrics arrived, a pod joined) runs one
 * on the next turn of the event loop, coalescing everything that happened in between. A pass repeats
 * llm-d's dispatch cycle (saturation per role group → usage-limit ceilings → bands in strict priority order
 * → fairness picks a flow → its head is dispatched) for as long as each cycle dispatches, so freed capacity
 * is filled in one burst; a burst longer than `sliceMs` yields to the event loop and continues on the next
 * turn. The only timer is the one expiry deadline nearest in time, so an idle EPP with a full queue costs
 * no CPU.
 *
 * A request is dispatched by calling the function it was admitted with, synchronously inside the cycle:
 * whatever it reserves (in-flight load) is seen by the next cycle's saturation.
 */
import type { Endpoint } from '../framework/endpoint.js';
import type { SaturationDetector } from '../framework/saturation.js';
import { HARD_MAX_BYTES, HARD_MAX_REQUESTS, type BandPolicy, type FlowControlSettings } from './config.js';
import { RunQueue } from './run-queue.js';
import { Band, type Flow, QueueItem } from './queues.js';
import { cancelled, expired, Outcome, rejectedCapacity, shuttingDown } from './outcomes.js';
import { poolSaturation, type PoolSaturation } from './saturation.js';
import { nullFlowObserver, type FlowControlObserver, type FlowControlState } from './metrics.js';

/** What flow control needs to know of a request. */
export interface AdmissionRequest {
  readonly requestId: string;
  readonly fairnessId: string;
  readonly priority: number;
  /** Raw body length: counted against the byte caps while the request waits. */
  readonly byteSize: number;
  /** performance.now() when the request's headers arrived. */
  readonly receivedAt: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The caller's own deadline on the performance.now() clock (e.g. the gRPC deadline), if any. */
  readonly deadline?: number | undefined;
  readonly modelName: string;
  readonly targetModelName: string;
}

/**
 * The stream's side of cancellation: it sets `cancelled` and calls `onCancel` (set by the controller
 * while the request waits) when its client goes away.
 */
export interface CancelHook {
  onCancel: (() => void) | undefined;
  readonly cancelled?: boolean;
}

/** Called when a cycle is blocked by a ceiling (in-flight eviction hooks in here). */
export interface BlockedCycleListener {
  blocked(saturation: number, priorities: readonly number[], ceilings: readonly number[], blockedAt: number, queuedIn: (priority: number) => number): void;
}

export interface FlowControllerDeps {
  /** Every endpoint of the pool (the subset hint plays no part in saturation). */
  readonly pool: () => readonly Endpoint[];
  readonly detector: SaturationDetector;
  readonly observer?: FlowControlObserver;
  /** performance.now()-style clock, ms. */
  readonly now?: () => number;
  /** Main-thread time a dispatch burst may take before it yields to the event loop (default 2 ms). */
  readonly sliceMs?: number;
  /** Lower hard ceilings (tests); the built-in ones are HARD_MAX_REQUESTS / HARD_MAX_BYTES. */
  readonly hardMaxRequests?: number;
  readonly hardMaxBytes?: number;
  readonly onBlocked?: BlockedCycleListener;
}

export class FlowController implements FlowControlState {
  readonly #s: FlowControlSettings;
  readonly #pool: () => readonly Endpoint[];
  readonly #detector: SaturationDetector;
  readonly #observer: FlowControlObserver;
  readonly #now: () => number;
  readonly #sliceMs: number;
  readonly #maxRequests: number;
  readonly #maxBytes: number;
  readonly #onBlocked: BlockedCycleListener | undefined;

  /** Highest priority first. */
  readonly #bands: Band[] = [];
  readonly #bandByPriority = new Map<number, Band>();
  #priorities: number[] = [];
  #ceilings: number[] = [];

  /** Every queued item, by expiry time. */
  readonly #expiry = new RunQueue<QueueItem>((a, b) => a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.seq < b.seq), 'expiryIndex');
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #kickScheduled = false;
  #inPass = false;
  #closed = false;

  #len = 0;
  #bytes = 0;
  #seq = 0;
  #lastEnqueuedAt = -Infinity;
  /** Whether the pool was empty at the last cycle, and since when. */
  #poolEmpty = false;
  #regimeSince = 0;
  readonly #sat: PoolSaturation = { prefill: -1, decode: -1, effective: 0 };

  constructor(settings: FlowControlSettings, deps: FlowControllerDeps) {
    this.#s = settings;
    this.#pool = deps.pool;
    this.#detector = deps.detector;
    this.#observer = deps.observer ?? nullFlowObserver;
    this.#now = deps.now ?? (() => performance.now());
    this.#sliceMs = deps.sliceMs ?? 2;
    this.#onBlocked = deps.onBlocked;
    this.#maxRequests = Math.min(deps.hardMaxRequests ?? HARD_MAX_REQUESTS, settings.maxRequests > 0 ? settings.maxRequests : Infinity);
    this.#maxBytes = Math.min(deps.hardMaxBytes ?? HARD_MAX_BYTES, settings.maxBytes > 0 ? settings.maxBytes : Infinity);
    for (const b of settings.bands) this.#addBand(b.priority, b, true);
    this.#regimeSince = this.#now();
  }

  /** Requests waiting, and their body bytes. */
  get queued(): number {
    return this.#len;
  }

  get queuedBytes(): number {
    return this.#bytes;
  }

  /** Whether a timer is armed (tests: an idle controller holds none). */
  get timerArmed(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Queues the request and resolves with what `dispatch` returns once flow control lets it through; when
   * the pool has room now, `dispatch` runs before `admit` returns and its result is returned directly.
   * Every other exit (caps, TTL, cancel, shutdown) throws / rejects with an EppError carrying llm-d's
   * status, message and dropped-reason header.
   */
  admit<T>(req: AdmissionRequest, dispatch: () => T, cancel?: CancelHook): T | Promise<T> {
    const now = this.#now();
    const tag = this.#observer.series({ fairnessId: req.fairnessId, priority: req.priority, modelName: req.modelName, targetModelName: req.targetModelName });
    if (this.#closed) return this.#refuse(tag, shuttingDown(true));
    if (cancel?.cancelled) return this.#refuse(tag, cancelled(true));
    const band = this.#bandFor(req.priority);
    const size = req.byteSize;
    if (this.#len + 1 > this.#maxRequests || this.#bytes + size > this.#maxBytes || band.len + 1 > band.maxRequests || band.bytes + size > band.maxBytes) {
      return this.#refuse(tag, rejectedCapacity(this.#poolEmpty));
    }
    let ttl = this.#s.defaultRequestTTLMs;
    const callerDeadline = req.deadline ?? Infinity;
    if (callerDeadline !== Infinity) {
      const left = callerDeadline - now;
      if (left <= 0) return this.#refuse(tag, expired(Outcome.EvictedTTL, this.#pool().length === 0, true));
      if (ttl <= 0 || left < ttl) ttl = left;
    }
    // Strictly increasing, so first-come-first-served is a total order even within one clock tick.
    const enqueuedAt = (this.#lastEnqueuedAt = now > this.#lastEnqueuedAt ? now : this.#lastEnqueuedAt + 1e-6);
    const flow = band.flowFor(req.fairnessId);
    const item = new QueueItem(this.#seq++, req.requestId, req.fairnessId, req.priority, enqueuedAt, ttl, callerDeadline, req.receivedAt, size, req.headers, flow, dispatch, tag);
    flow.queue.push(item);
    band.len++;
    band.bytes += size;
    this.#len++;
    this.#bytes += size;
    item.expiresAt = this.#expiryOf(item);
    this.#expiry.push(item);
    if (this.#expiry.peek() === item) this.#armTimer();
    if (cancel) {
      item.cancelHook = cancel;
      cancel.onCancel = () => this.#cancel(item, cancel);
    }
    this.#observer.enqueued(tag, size, (this.#now() - now) / 1000);

    this.#pass();
    if (item.settled) {
      if (cancel) cancel.onCancel = undefined;
      if (item.error !== undefined) throw item.error;
      return item.result as T;
    }
    // #settle unhooks the cancel callback, so no `.finally` promise is made per request.
    return new Promise<T>((resolve, reject) => {
      item.resolve = resolve as (v: unknown) => void;
      item.reject = reject;
    });
  }

  /** Something may have freed capacity: run a dispatch pass on the next turn (coalesced). */
  kick(): void {
    if (this.#kickScheduled || this.#len === 0 || this.#closed) return;
    this.#kickScheduled = true;
    setImmediate(() => {
      this.#kickScheduled = false;
      this.#pass();
    });
  }

  /** Shutdown: every waiting request gets `flow controller shutting down` (503); later ones are refused. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    for (const item of this.#expiry.values()) this.#drop(item, shuttingDown(false));
  }

  // --- FlowControlState (scrape-time gauges) ---

  saturation(): PoolSaturation {
    return this.#sat;
  }

  staleEndpoints(): number | undefined {
    const d = this.#detector as SaturationDetector & { isStale?(e: Endpoint): boolean };
    if (typeof d.isStale !== 'function') return undefined;
    let n = 0;
    for (const e of this.#pool()) if (d.isStale(e)) n++;
    return n;
  }

  bands(): Iterable<Band> {
    return this.#bands;
  }

  global(): { len: number; bytes: number; maxRequests: number; maxBytes: number } {
    return { len: this.#len, bytes: this.#bytes, maxRequests: this.#s.maxRequests, maxBytes: this.#s.maxBytes };
  }

  /** The band for `priority`, made from its template on first use. */
  #bandFor(priority: number): Band {
    return this.#bandByPriority.get(priority) ?? this.#addBand(priority, priority < 0 ? this.#s.defaultNegativeBand : this.#s.defaultBand, false);
  }

  #addBand(priority: number, policy: BandPolicy, configured: boolean): Band {
    const band = new Band(priority, policy.ordering, policy.fairness, policy.maxRequests, policy.maxBytes, configured);
    let i = 0;
    while (i < this.#bands.length && this.#bands[i]!.priority > priority) i++;
    this.#bands.splice(i, 0, band);
    this.#bandByPriority.set(priority, band);
    this.#priorities = this.#bands.map((b) => b.priority);
    this.#ceilings = new Array<number>(this.#bands.length).fill(1);
    return band;
  }

  #refuse(tag: unknown, r: { outcome: Outcome; error: Error }): never {
    this.#observer.finished(tag, r.outcome, 0);
    throw r.error;
  }

  /** One pass: dispatch cycles until one dispatches nothing, yielding after `sliceMs`. */
  #pass(): void {
    if (this.#inPass || this.#len === 0 || this.#closed) return;
    this.#inPass = true;
    const start = this.#now();
    let n = 0;
    try {
      while (this.#len > 0 && this.#cycle()) {
        if ((++n & 15) === 0 && this.#now() - start >= this.#sliceMs) {
          this.kick();
          break;
        }
      }
    } finally {
      this.#inPass = false;
    }
  }

  /** llm-d's dispatch cycle; true when it dispatched a request. */
  #cycle(): boolean {
    const start = this.#now();
    const pool = this.#pool();
    const empty = pool.length === 0;
    if (empty !== this.#poolEmpty) {
      this.#poolEmpty = empty;
      this.#regimeSince = start;
      this.#rekeyExpiry();
    }
    const saturation = poolSaturation(pool, this.#detector, this.#sat).effective;
    const ceilings = this.#ceilings;
    ceilings.fill(1);
    this.#s.usageLimit.computeLimit(saturation, this.#priorities, ceilings);
    const bands = this.#bands;
    let dispatched = false;
    for (let i = 0; i < bands.length; i++) {
      if (saturation >= ceilings[i]!) {
        // Head-of-line blocking: no lower band may overtake a band held back by its ceiling.
        this.#onBlocked?.blocked(saturation, this.#priorities, ceilings, i, (p) => this.#bandByPriority.get(p)?.len ?? 0);
        break;
      }
      const band = bands[i]!;
      if (band.len === 0) continue;
      const flow = band.fairness.pick(band);
      if (!flow) continue;
      this.#dispatch((flow as Flow).queue.peek()!); // policies only see the band's own flows
      dispatched = true;
      break;
    }
    this.#observer.cycle((this.#now() - start) / 1000);
    return dispatched;
  }

  #dispatch(item: QueueItem): void {
    this.#unqueue(item);
    this.#observer.finished(item.tag, Outcome.Dispatched, (this.#now() - item.enqueuedAt) / 1000);
    let result: unknown;
    let error: unknown;
    try {
      result = item.dispatch();
    } catch (err) {
      error = err ?? new Error('dispatch failed');
    }
    this.#settle(item, result, error);
  }

  /** Removes a request that leaves without being dispatched. */
  #drop(item: QueueItem, r: { outcome: Outcome; error: Error }): void {
    if (!item.queued) return;
    this.#unqueue(item);
    this.#observer.finished(item.tag, r.outcome, (this.#now() - item.enqueuedAt) / 1000);
    this.#settle(item, undefined, r.error);
  }

  #cancel(item: QueueItem, hook: CancelHook): void {
    hook.onCancel = undefined;
    this.#drop(item, cancelled(false));
  }

  #unqueue(item: QueueItem): void {
    item.queued = false;
    const flow = item.flow;
    const band = flow.band;
    flow.queue.remove(item);
    if (flow.queue.size === 0) band.dropFlow(flow);
    band.len--;
    band.bytes -= item.byteSize;
    this.#len--;
    this.#bytes -= item.byteSize;
    this.#expiry.remove(item);
    if (this.#len === 0) this.#clearTimer();
    this.#observer.dequeued(item.tag, item.byteSize);
  }

  #settle(item: QueueItem, result: unknown, error: unknown): void {
    item.settled = true;
    if (item.cancelHook) item.cancelHook.onCancel = undefined;
    item.result = result;
    item.error = error;
    if (error !== undefined) item.reject?.(error);
    else item.resolve?.(result);
  }

  // --- expiry ---

  /** When `item` runs out of queue-wait budget under the current pool regime. */
  #expiryOf(item: QueueItem): number {
    const budget = this.#poolEmpty ? this.#s.noEndpointRequestTTLMs : item.ttlMs;
    const byBudget = budget > 0 ? Math.max(item.enqueuedAt, this.#regimeSince) + budget : Infinity;
    return Math.min(byBudget, item.callerDeadline);
  }

  /** The pool emptied or came back: every budget restarts from now under the other regime's TTL. */
  #rekeyExpiry(): void {
    if (this.#len === 0) return;
    for (const item of this.#expiry.values()) item.expiresAt = this.#expiryOf(item);
    this.#expiry.rebuild();
    this.#armTimer();
  }

  #armTimer(): void {
    const at = this.#expiry.peek()?.expiresAt ?? Infinity;
    if (at === this.#timerAt) return;
    this.#clearTimer();
    if (at === Infinity) return;
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, Math.ceil(at - this.#now())) + 1);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#now();
    let poolEmptyNow: boolean | undefined;
    for (let item = this.#expiry.peek(); item && item.expiresAt <= now; item = this.#expiry.peek()) {
      const byCaller = item.callerDeadline <= now;
      const outcome = this.#poolEmpty && !byCaller ? Outcome.EvictedNoEndpoints : Outcome.EvictedTTL;
      poolEmptyNow ??= this.#pool().length === 0;
      this.#drop(item, expired(outcome, poolEmptyNow));
    }
    this.#armTimer();
  }
}
