/**
 * What the scheduler asks of the worker pool to score on it (src/pool/scoring-engine.ts implements it).
 * The scheduler knows nothing of threads: it hands over a profile's pooled scorers with the request, the
 * candidates and the cycle state as it stood when scoring began, and gets score vectors and cycle-state
 * deltas back, or the reason the pool could not do it (then it scores inline itself).
 */
import type { CycleStateReader } from '../framework/cycle-state.js';
import type { Endpoint } from '../framework/endpoint.js';
import type { InferenceRequest } from '../framework/request.js';
import type { Scorer } from '../framework/scheduling.js';

export interface PooledScoringJob {
  readonly profile: string;
  readonly request: InferenceRequest;
  /** The candidates after the profile's filters; every one belongs to the current snapshot. */
  readonly candidates: readonly Endpoint[];
  /** Read-only; the job copies the keys each scorer `consumes`. */
  readonly cycleState: CycleStateReader;
  readonly scorers: readonly Scorer[];
}

export interface PooledScores {
  /** One vector per scorer of the job, aligned with the candidates. */
  readonly scores: readonly ArrayLike<number>[];
  /** Per scorer, the cycle-state writes it made, in order. */
  readonly deltas: readonly (readonly (readonly [string, unknown])[])[];
  /** Per scorer, microseconds its `score` took on the worker. */
  readonly computeUs: readonly number[];
}

export type PooledOutcome = { readonly ok: true; readonly value: PooledScores } | { readonly ok: false; readonly reason: string };

export interface PooledScoring {
  /** Threads ready to score; 0 means every scorer runs inline. */
  readonly threads: number;
  /** The measured main-thread cost of one hand-off (µs, a moving average); undefined before any. */
  roundTripUs(): number | undefined;
  score(job: PooledScoringJob): Promise<PooledOutcome>;
}
