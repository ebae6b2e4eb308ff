/**
 * The EPP's worker-thread pool ("worker pool"; not the InferencePool of model servers): one Piscina pool
 * that runs named tasks (framework/worker-tasks.ts) and pooled scoring. With the rest of src/pool/, the only
 * importer of piscina.
 *
 * Workers fail; requests don't. Every way the pool can fail a task ends in the task running inline on the
 * main thread, counted and logged with its reason:
 * - `no-threads`: the pool has no threads (`--workers 0`, or not started yet) — counted, not logged;
 * - `queue-full`: `maxQueue` tasks already wait (the queue is bounded so waiting cannot grow without end);
 * - `timeout`: a worker ran the task longer than its limit, counted from when the worker STARTED it (a
 *   shared slot the worker stamps), so time spent queued behind others is not charged to it; the worker is
 *   terminated and replaced;
 * - `worker-error`: the worker died under the task (crash, exit, out of memory); Piscina replaces it.
 * A task that throws is not a pool failure: its error goes back to the caller, wherever it ran.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import type { TaskOptions, TaskRef, WorkerTasks } from '../framework/worker-tasks.js';
import { WORKER_TASK_UNAVAILABLE } from '../framework/worker-tasks.js';
import { EppError, errorCodeOf } from '../errors.js';
import type { EngineMessage, EngineReply, SerializedError, WorkerSetup } from '../../workers/engine-worker.js';

export const ENGINE_WORKER = fileURLToPath(new URL('../../workers/engine-worker.js', import.meta.url));

export type FallbackReason = 'no-threads' | 'queue-full' | 'timeout' | 'worker-error';

/** What the pool reports; observability/worker-metrics.ts turns it into Prometheus series. */
export interface WorkerPoolObserver {
  /** A task finished (or failed by throwing) on a worker or inline; `task` is the export name. */
  taskDone(task: string, where: 'worker' | 'inline', seconds: number): void;
  fallback(task: string, reason: FallbackReason): void;
}

export interface WorkerPoolOptions {
  /** Default limit for a task's run on a worker, from its start. */
  readonly taskTimeoutMs?: number;
  /** Tasks that may wait for a thread; one more runs inline (`queue-full`). Default 16 per thread. */
  readonly maxQueuePerThread?: number;
  readonly log?: { warn(obj: object, msg: string): void; info?(obj: object, msg: string): void };
  readonly observer?: WorkerPoolObserver;
  /** The worker entry (tests substitute one). */
  readonly filename?: string;
  /** How often the start-time watchdog looks at running tasks; default a quarter of the timeout, ≤ 250 ms. */
  readonly watchdogMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** Slots for start stamps: enough for every task that can be queued or running at once. */
const MAX_SLOTS = 4096;
/** One warning per reason per this long; the ones in between are counted in the next. */
const WARN_EVERY_MS = 10_000;

interface Running {
  readonly slot: number;
  readonly timeoutMs: number;
  readonly abort: AbortController;
  readonly task: string;
}

const toUrl = (module: string) => (module.startsWith('file:') ? module : pathToFileURL(module).href);

/** Rebuilds what a task threw: an EppError keeps its code, anything else its name and message. */
export function deserializeError(e: SerializedError): Error {
  if (e.code && e.code.startsWith('EPP_')) return new EppError(errorCodeOf(e.code), e.message);
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

export class WorkerPool implements WorkerTasks {
  readonly #o: WorkerPoolOptions;
  readonly #timeoutMs: number;
  #piscina: Piscina<EngineMessage, EngineReply> | undefined;
  #maxQueue = 0;
  readonly #preloads = new Set<string>();
  /** Start stamps (ms since the epoch) the workers write; 0 = not started. */
  readonly #started = new BigInt64Array(new SharedArrayBuffer(MAX_SLOTS * 8));
  readonly #freeSlots: number[] = [];
  readonly #running = new Set<Running>();
  #watchdog: NodeJS.Timeout | undefined;
  readonly #lastWarn = new Map<string, { at: number; suppressed: number }>();
  readonly #inlineModules = new Map<string, Promise<Record<string, unknown>>>();
  readonly #stats = { worker: 0, inline: 0, fallbacks: {} as Record<FallbackReason, number> };
  #closed = false;

  constructor(options: WorkerPoolOptions = {}) {
    this.#o = options;
    this.#timeoutMs = options.taskTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    for (let i = MAX_SLOTS - 1; i >= 0; i--) this.#freeSlots.push(i);
  }

  get threads(): number {
    return this.#piscina ? this.#piscina.options.maxThreads : 0;
  }

  /** Tasks run on workers and inline, and fallbacks by reason (for tests and the start-up log). */
  get stats(): { worker: number; inline: number; fallbacks: Readonly<Record<FallbackReason, number>> } {
    return { worker: this.#stats.worker, inline: this.#stats.inline, fallbacks: { ...this.#stats.fallbacks } };
  }

  /** The Piscina pool, for the scoring engine in this folder; undefined until started. */
  get piscina(): Piscina<EngineMessage, EngineReply> | undefined {
    return this.#piscina;
  }

  /** Starts `threads` workers (0: stay inline). Modules preloaded so far load on each as it starts. */
  start(threads: number, setup: Partial<WorkerSetup> = {}): void {
    if (this.#piscina) throw new Error('WorkerPool: already started');
    if (!Number.isInteger(threads) || threads < 0) throw new RangeError(`WorkerPool: threads must be an integer >= 0, got ${threads}`);
    if (threads === 0 || this.#closed) return;
    this.#maxQueue = threads * (this.#o.maxQueuePerThread ?? 16);
    const workerData: WorkerSetup = { started: this.#started, preload: [...this.#preloads], plugins: setup.plugins ?? [], preloadScoring: setup.preloadScoring ?? false };
    this.#piscina = new Piscina<EngineMessage, EngineReply>({
      filename: this.#o.filename ?? ENGINE_WORKER,
      minThreads: threads,
      maxThreads: threads,
      maxQueue: this.#maxQueue,
      idleTimeout: 2 ** 31 - 1,
      workerData,
    });
    // A worker that fails outside a task (at start-up, say) must not take the process down.
    this.#piscina.on('error', (err: Error) => this.#warn('worker-error', { err: err.message }, 'a worker thread failed outside a task'));
  }

  async preload(module: string): Promise<void> {
    const url = toUrl(module);
    this.#preloads.add(url);
    if (!this.#piscina) return;
    // Threads already running: each gets a preload task; Piscina hands idle threads one each.
    await Promise.all(Array.from({ length: this.threads }, () => this.#piscina!.run({ kind: 'preload', module: url })));
  }

  run<I, O>(task: TaskRef, input: I, options: TaskOptions = {}): Promise<O> {
    const module = toUrl(task.module);
    const pool = this.#piscina;
    if (!pool || this.#closed) return this.#fallback(task.name, 'no-threads', module, input, options);
    if (pool.queueSize >= this.#maxQueue) return this.#fallback(task.name, 'queue-full', module, input, options);
    return this.#onWorker<O>({ kind: 'task', module, name: task.name, input }, task.name, options.timeoutMs ?? this.#timeoutMs).then(
      (outcome) => (outcome.ok ? outcome.value : this.#fallback<O>(task.name, outcome.reason, module, input, options)),
    );
  }

  /**
   * Sends one message to a worker, timed from its start. Resolves with the reply's value, or with why the
   * pool failed it; rejects only with what the task itself threw. Used by `run` and the scoring engine.
   */
  async onWorker<T>(message: EngineMessage, task: string, timeoutMs = this.#timeoutMs): Promise<{ ok: true; value: T } | { ok: false; reason: FallbackReason }> {
    const pool = this.#piscina;
    if (!pool || this.#closed) return { ok: false, reason: 'no-threads' };
    if (pool.queueSize >= this.#maxQueue) return { ok: false, reason: 'queue-full' };
    return this.#onWorker<T>(message, task, timeoutMs);
  }

  async #onWorker<T>(message: EngineMessage, task: string, timeoutMs: number): Promise<{ ok: true; value: T } | { ok: false; reason: FallbackReason }> {
    const slot = this.#freeSlots.pop();
    if (slot === undefined) return { ok: false, reason: 'queue-full' };
    Atomics.store(this.#started, slot, 0n);
    const running: Running = { slot, timeoutMs, abort: new AbortController(), task };
    this.#running.add(running);
    this.#armWatchdog();
    const t = performance.now();
    let reply: EngineReply;
    try {
      reply = await this.#piscina!.run({ ...message, slot }, { signal: running.abort.signal });
    } catch {
      // The worker entry turns whatever a task throws into a reply, so a rejection is the pool's failure.
      return { ok: false, reason: running.abort.signal.aborted ? 'timeout' : 'worker-error' };
    } finally {
      this.#running.delete(running);
      this.#freeSlots.push(slot);
    }
    this.#stats.worker++;
    this.#o.observer?.taskDone(task, 'worker', (performance.now() - t) / 1000);
    if (!reply.ok) throw deserializeError(reply.error);
    return { ok: true, value: reply.value as T };
  }

  /** Counts a task the pool could not run and logs why (rate-limited); the caller runs it inline. */
  reportFallback(task: string, reason: FallbackReason): void {
    this.#stats.fallbacks[reason] = (this.#stats.fallbacks[reason] ?? 0) + 1;
    this.#o.observer?.fallback(task, reason);
    if (reason !== 'no-threads') this.#warn(reason, { task }, `worker pool: ${reason}; running task "${task}" inline`);
  }

  async #fallback<O>(task: string, reason: FallbackReason, module: string, input: unknown, options: TaskOptions): Promise<O> {
    this.reportFallback(task, reason);
    if (options.inlineFallback === false) {
      const err = new Error(`task "${task}" cannot run on the worker pool (${reason}) and may not run inline`);
      err.name = WORKER_TASK_UNAVAILABLE;
      throw err;
    }
    return this.runInline<O>(module, task, input);
  }

  /** Runs a task on the main thread (importing its module once). */
  async runInline<O>(module: string, name: string, input: unknown): Promise<O> {
    const url = toUrl(module);
    let loaded = this.#inlineModules.get(url);
    if (!loaded) {
      loaded = import(url) as Promise<Record<string, unknown>>;
      this.#inlineModules.set(url, loaded);
    }
    const fn = (await loaded)[name];
    if (typeof fn !== 'function') throw new Error(`task "${name}" is not a function exported by ${url}`);
    const t = performance.now();
    try {
      return (await (fn as (input: unknown) => O | Promise<O>)(input)) as O;
    } finally {
      this.#stats.inline++;
      this.#o.observer?.taskDone(name, 'inline', (performance.now() - t) / 1000);
    }
  }

  /** Logs the first fallback of a reason, then at most one per WARN_EVERY_MS with how many it stood for. */
  #warn(reason: string, obj: object, msg: string): void {
    const now = Date.now();
    const last = this.#lastWarn.get(reason);
    if (last && now - last.at < WARN_EVERY_MS) {
      last.suppressed++;
      return;
    }
    this.#o.log?.warn({ ...obj, reason, ...(last?.suppressed ? { since: last.suppressed } : {}) }, msg);
    this.#lastWarn.set(reason, { at: now, suppressed: 0 });
  }

  #armWatchdog(): void {
    if (this.#watchdog) return;
    const every = this.#o.watchdogMs ?? Math.max(5, Math.min(250, this.#timeoutMs / 4));
    this.#watchdog = setInterval(() => {
      const now = BigInt(Date.now());
      for (const r of this.#running) {
        const started = Atomics.load(this.#started, r.slot);
        if (started > 0n && now - started > BigInt(r.timeoutMs)) r.abort.abort(new Error(`task "${r.task}" ran over ${r.timeoutMs} ms`));
      }
      if (this.#running.size === 0) {
        clearInterval(this.#watchdog);
        this.#watchdog = undefined;
      }
    }, every);
    this.#watchdog.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    const pool = this.#piscina;
    this.#piscina = undefined;
    await pool?.destroy();
  }
}
