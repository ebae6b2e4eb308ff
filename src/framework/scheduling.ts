/**
 * Scheduler framework contracts (Gateway API Inference Extension, proposal 0845): a ProfileHandler picks
 * profiles to run; each profile runs Filters → weighted Scorers → Picker; ProcessResults names the primary.
 */
import type { Plugin } from './plugin.js';
import type { Endpoint } from './endpoint.js';
import type { InferenceRequest } from './request.js';
import type { CycleState } from './cycle-state.js';

export interface Filter extends Plugin {
  /** Returns the endpoints to keep, in order. An empty result stops the profile run. */
  filter(cycleState: CycleState, request: InferenceRequest, endpoints: readonly Endpoint[]): readonly Endpoint[];
}

/** What a scorer optimises, so configs and tools can reason about a profile's balance. */
export type ScorerCategory = 'affinity' | 'distribution' | 'balance';

export interface Scorer extends Plugin {
  readonly category: ScorerCategory;
  /**
   * True when `score` may run on a worker thread: it reads only the endpoints' metadata, metrics and
   * attributes (not `load`, which lives on the main thread), the request without `body.json`, and the
   * cycle-state keys it lists in `consumes`; it keeps no state that other plugins change. A worker builds
   * its own instance from the same registration and parameters. Absent: the scorer always runs inline.
   */
  readonly poolCapable?: boolean;
  /**
   * Cycle-state keys `score` writes. A pooled scorer's writes come back as a delta applied after scoring,
   * in profile order; two scorers of one profile that write the same key are a configuration error.
   */
  readonly writes?: readonly string[];
  /**
   * One score per endpoint, aligned with `endpoints` (index i scores endpoints[i]). The framework clamps
   * each to [0, 1] and multiplies by the profile weight; a missing or NaN score counts as 0.
   */
  score(cycleState: CycleState, request: InferenceRequest, endpoints: readonly Endpoint[]): ArrayLike<number>;
}

export interface ScoredEndpoint {
  readonly endpoint: Endpoint;
  readonly score: number;
}

export interface ProfileRunResult {
  /** The picked endpoints, best first; more than one means fallbacks. */
  readonly targetEndpoints: readonly ScoredEndpoint[];
}

export interface Picker extends Plugin {
  pick(cycleState: CycleState, scored: readonly ScoredEndpoint[]): ProfileRunResult;
  /**
   * Optional: the same pick from parallel arrays (`totals[i]` is `endpoints[i]`'s score), which spares the
   * runner one object per candidate on every request. Must choose as `pick` would.
   */
  pickTotals?(cycleState: CycleState, endpoints: readonly Endpoint[], totals: Float64Array): ProfileRunResult;
}

export interface WeightedScorer {
  readonly scorer: Scorer;
  readonly weight: number;
}

export interface SchedulerProfile {
  readonly name: string;
  readonly filters: readonly Filter[];
  readonly scorers: readonly WeightedScorer[];
  readonly picker: Picker;
}

/** Results of the profiles run so far, by profile name; undefined for a profile that ran and found nothing. */
export type ProfileResults = ReadonlyMap<string, ProfileRunResult | undefined>;

export interface SchedulingResult {
  readonly profileResults: ProfileResults;
  readonly primaryProfileName: string;
}

export interface ProfileHandler extends Plugin {
  /**
   * Called until it returns no profiles; the profiles returned by one call run concurrently (their pooled
   * scorers on workers at once), then pick in the order returned. `resultsSoFar` holds every profile run so far.
   */
  pick(
    request: InferenceRequest,
    profiles: ReadonlyMap<string, SchedulerProfile>,
    resultsSoFar: ProfileResults,
    cycleState: CycleState,
  ): readonly SchedulerProfile[];
  /** Names the primary result; throws when the results cannot serve the request. */
  processResults(request: InferenceRequest, results: ProfileResults, cycleState: CycleState): SchedulingResult;
  /** Checked at start-up: a reason the configured profile names cannot work with this handler, if any. */
  checkProfiles?(names: ReadonlySet<string>): string | undefined;
}

/** The narrow interface the director needs. */
export interface Scheduler {
  /** Synchronous unless a profile has scorers placed on the worker pool. */
  schedule(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): SchedulingResult | Promise<SchedulingResult>;
}

export function isFilter(p: Plugin): p is Filter {
  return typeof (p as Partial<Filter>).filter === 'function';
}

export function isScorer(p: Plugin): p is Scorer {
  return typeof (p as Partial<Scorer>).score === 'function';
}

export function isProfileHandler(p: Plugin): p is ProfileHandler {
  return typeof (p as Partial<ProfileHandler>).processResults === 'function';
}

export function isPicker(p: Plugin): p is Picker {
  return typeof (p as Partial<Picker>).pick === 'function' && !isProfileHandler(p);
}

/** The primary profile's picked endpoints, best first. */
export function primaryTargets(result: SchedulingResult): readonly ScoredEndpoint[] {
  return result.profileResults.get(result.primaryProfileName)?.targetEndpoints ?? [];
}
