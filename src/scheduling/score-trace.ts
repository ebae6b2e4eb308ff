/**
 * What a scheduling cycle scored, for whoever watches (the status page). The runner checks `active` once
 * per scorer call and records nothing when it is false, so an unwatched EPP pays one property read. A
 * watched one records the cycles `begin` chose (a sample), so watching does not slow a busy EPP down.
 */
import type { CycleState } from '../framework/cycle-state.js';
import type { Endpoint } from '../framework/endpoint.js';
import type { InferenceRequest } from '../framework/request.js';
import type { ProfileRunResult, SchedulingResult } from '../framework/scheduling.js';

export interface ScoreTrace {
  readonly active: boolean;
  /** A cycle starts; the trace decides whether to record it (the calls below are ignored for others). */
  begin(cycleState: CycleState): void;
  /** One scorer's raw scores (0..1) over `endpoints`, before its weight. The array may be reused after. */
  scored(cycleState: CycleState, profile: string, scorer: string, weight: number, endpoints: readonly Endpoint[], scores: ArrayLike<number>): void;
  /** A profile's weighted totals and its picker's result. */
  picked(cycleState: CycleState, profile: string, endpoints: readonly Endpoint[], totals: Float64Array, result: ProfileRunResult): void;
  /** A profile's filters left no endpoint. */
  failed(cycleState: CycleState, profile: string, reason: string): void;
  /** The cycle is over: the whole decision. */
  finished(cycleState: CycleState, request: InferenceRequest, result: SchedulingResult): void;
}
