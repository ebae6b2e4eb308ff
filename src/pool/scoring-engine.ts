/**
 * Pooled scoring: a profile's pooled scorers run on a worker thread of the worker pool while its inline
 * scorers run on the main thread. A task carries the epoch (shared buffers, packed once per epoch by
 * SnapshotPacker), the candidates as indices into it, the request without its parsed JSON, the cycle-state
 * entries its scorers `consume`, and the scorers' names; it returns one score vector per scorer, the
 * cycle-state writes each made, and what each cost on the worker.
 *
 * Requests whose pooled work is ready in the same turn of the event loop may share one task (`batch`);
 * bench/pool-handoff.bench.ts measures whether that pays. When the pool cannot run a task the scheduler
 * scores inline (the reason is counted and logged here).
 */
import type { Endpoint, EndpointSnapshot } from '../framework/endpoint.js';
import type { InferenceRequest } from '../framework/request.js';
import type { PooledOutcome, PooledScores, PooledScoring, PooledScoringJob } from '../scheduling/pooled-scoring.js';
import type { ScoreJob, ScoreReply } from '../../workers/engine-worker.js';
import { SnapshotPacker, type PackedEpoch } from './snapshot-columns.js';
import type { WorkerPool } from './worker-pool.js';

export interface ScoringEngineOptions {
  readonly pool: WorkerPool;
  /** The endpoint store's current snapshot. */
  readonly snapshot: () => EndpointSnapshot;
  /** Jobs ready in one turn of the event loop share a task. */
  readonly batch?: boolean;
}

/** Weight of a new sample in the hand-off moving average. */
const EWMA = 0.05;
/** Tasks sent once at start to measure the hand-off before any request needs it. */
const PROBES = 16;

interface Pending {
  readonly job: ScoreJob;
  readonly resolve: (o: PooledOutcome) => void;
  readonly reject: (err: unknown) => void;
  readonly sentAt: number;
}

/** The request as a worker sees it: everything but the parsed JSON body (pooled scorers declare they need none). */
function requestSummary(r: InferenceRequest): InferenceRequest {
  const { json: _json, ...body } = r.body;
  return { ...r, body };
}

export class ScoringEngine implements PooledScoring {
  readonly #pool: WorkerPool;
  readonly #snapshot: () => EndpointSnapshot;
  readonly #packer = new SnapshotPacker();
  /** Recent packs, newest last: candidates of a cycle that waited (an async producer) may be an epoch old. */
  readonly #recent: { packed: PackedEpoch; index: ReadonlyMap<Endpoint, number> }[] = [];
  readonly #batch: boolean;
  #queued: Pending[] = [];
  #flushScheduled = false;
  #handOffUs: number | undefined;
  #tasks = 0;
  #jobs = 0;

  constructor(options: ScoringEngineOptions) {
    this.#pool = options.pool;
    this.#snapshot = options.snapshot;
    this.#batch = options.batch ?? false;
  }

  get threads(): number {
    return this.#pool.threads;
  }

  /** Tasks sent and jobs they carried (jobs > tasks when batching shared tasks); epochs packed. */
  get stats(): { tasks: number; jobs: number; packs: number; staticPacks: number } {
    return { tasks: this.#tasks, jobs: this.#jobs, ...this.#packer.stats };
  }

  roundTripUs(): number | undefined {
    return this.#handOffUs;
  }

  /** Measures the hand-off with a few empty tasks, so `auto` placement has a figure from the start. */
  async probe(): Promise<void> {
    if (this.threads === 0) return;
    for (let i = 0; i < PROBES; i++) {
      const t = performance.now();
      const r = await this.#pool.onWorker<unknown>({ kind: 'ping' }, 'ping');
      if (!r.ok) return;
      this.#observeHandOff((performance.now() - t) * 1000);
    }
  }

  #observeHandOff(us: number): void {
    this.#handOffUs = this.#handOffUs === undefined ? us : this.#handOffUs + (us - this.#handOffUs) * EWMA;
  }

  score(job: PooledScoringJob): Promise<PooledOutcome> {
    if (this.threads === 0) return Promise.resolve({ ok: false, reason: 'no-threads' });
    const located = this.#locate(job.candidates);
    const candidates = new Int32Array(job.candidates.length);
    for (let i = 0; i < candidates.length; i++) candidates[i] = located.index.get(job.candidates[i]!)!;
    const state: [string, unknown][] = [];
    for (const scorer of job.scorers) {
      for (const key of (scorer as { consumes?: readonly string[] }).consumes ?? []) {
        if (job.cycleState.has(key) && !state.some(([k]) => k === key)) state.push([key, job.cycleState.read(key)]);
      }
    }
    const scoreJob: ScoreJob = { epoch: located.packed, candidates, request: requestSummary(job.request), state, scorers: job.scorers.map((s) => s.name) };
    return new Promise<PooledOutcome>((resolve, reject) => {
      const pending: Pending = { job: scoreJob, resolve, reject, sentAt: performance.now() };
      if (!this.#batch) return this.#send([pending]);
      this.#queued.push(pending);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => {
          this.#flushScheduled = false;
          const batch = this.#queued;
          this.#queued = [];
          this.#send(batch);
        });
      }
    });
  }

  /** The packed epoch holding every candidate: the current one, else a recent one, else one of the candidates alone. */
  #locate(candidates: readonly Endpoint[]): { packed: PackedEpoch; index: ReadonlyMap<Endpoint, number> } {
    const current = this.#packer.pack(this.#snapshot());
    if (this.#recent[this.#recent.length - 1] !== current) {
      this.#recent.push(current);
      if (this.#recent.length > 4) this.#recent.shift();
    }
    for (let r = this.#recent.length - 1; r >= 0; r--) {
      const candidate = this.#recent[r]!;
      if (candidates.every((c) => candidate.index.has(c))) return candidate;
    }
    // Not one snapshot's endpoints (a caller's own list): pack them as an epoch of their own.
    return new SnapshotPacker().pack({ epoch: -1, endpoints: candidates });
  }

  #send(batch: Pending[]): void {
    this.#tasks++;
    this.#jobs += batch.length;
    const message = batch.length === 1 ? { kind: 'score' as const, job: batch[0]!.job } : { kind: 'score-batch' as const, jobs: batch.map((p) => p.job) };
    const task = batch.length === 1 ? 'score' : 'score-batch';
    this.#pool.onWorker<ScoreReply | ScoreReply[]>(message, task).then(
      (outcome) => {
        if (!outcome.ok) {
          this.#pool.reportFallback(task, outcome.reason);
          for (const p of batch) p.resolve({ ok: false, reason: outcome.reason });
          return;
        }
        const replies = (batch.length === 1 ? [outcome.value] : outcome.value) as ScoreReply[];
        const now = performance.now();
        batch.forEach((p, i) => {
          const reply = replies[i]!;
          const compute = reply.computeUs.reduce((a, b) => a + b, 0);
          this.#observeHandOff(((now - p.sentAt) * 1000 - compute) / batch.length);
          const value: PooledScores = reply;
          p.resolve({ ok: true, value });
        });
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}
