import type { CycleState } from '../framework/cycle-state.js';
import type { Endpoint } from '../framework/endpoint.js';
import type { InferenceRequest } from '../framework/request.js';
import type { Filter, Picker, ProfileRunResult, SchedulerProfile, ScoredEndpoint, WeightedScorer } from '../framework/scheduling.js';
import { ExtensionPoints, type DurationRecorder, type SchedulingObserver } from './observer.js';

export const NO_ENDPOINTS_FOR_REQUEST = 'no endpoints available for the given request';

interface Timed<T> {
  readonly plugin: T;
  readonly record: DurationRecorder;
}

/** Why a profile produced no result; kept so the final error can say which filter emptied the set. */
export interface ProfileFailure {
  readonly profile: string;
  readonly reason: string;
}

/**
 * One profile, prepared once at start-up: Filters in order → weighted Scorers → Picker. Timers are bound
 * here so a run does no label lookups.
 */
export class ProfileRunner implements SchedulerProfile {
  readonly name: string;
  readonly filters: readonly Filter[];
  readonly scorers: readonly WeightedScorer[];
  readonly picker: Picker;
  readonly #timedFilters: Timed<Filter>[];
  readonly #timedScorers: (Timed<WeightedScorer['scorer']> & { weight: number })[];
  readonly #timedPicker: Timed<Picker>;

  constructor(profile: SchedulerProfile, observer: SchedulingObserver) {
    this.name = profile.name;
    this.filters = profile.filters;
    this.scorers = profile.scorers;
    this.picker = profile.picker;
    this.#timedFilters = profile.filters.map((f) => ({ plugin: f, record: observer.pluginTimer(ExtensionPoints.filter, f) }));
    this.#timedScorers = profile.scorers.map(({ scorer, weight }) => ({
      plugin: scorer,
      weight,
      record: observer.pluginTimer(ExtensionPoints.scorer, scorer),
    }));
    this.#timedPicker = { plugin: profile.picker, record: observer.pluginTimer(ExtensionPoints.picker, profile.picker) };
  }

  /** Returns the result, or a failure reason when the filters left no endpoint. */
  run(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): ProfileRunResult | ProfileFailure {
    let endpoints = candidates;
    for (const { plugin, record } of this.#timedFilters) {
      const start = performance.now();
      endpoints = plugin.filter(cycleState, request, endpoints);
      record((performance.now() - start) / 1000);
      if (endpoints.length === 0) {
        return { profile: this.name, reason: `${NO_ENDPOINTS_FOR_REQUEST} (filter "${plugin.name}" left none)` };
      }
    }
    if (endpoints.length === 0) return { profile: this.name, reason: NO_ENDPOINTS_FOR_REQUEST }; // nothing to filter from
    const totals = this.#score(request, endpoints, cycleState);
    const scored: ScoredEndpoint[] = new Array(endpoints.length);
    for (let i = 0; i < endpoints.length; i++) scored[i] = { endpoint: endpoints[i]!, score: totals[i]! };
    const start = performance.now();
    const result = this.#timedPicker.plugin.pick(cycleState, scored);
    this.#timedPicker.record((performance.now() - start) / 1000);
    return result;
  }

  /** Weighted sum of clamped scores; a missing, NaN or negative score counts as 0, above 1 as 1. */
  #score(request: InferenceRequest, endpoints: readonly Endpoint[], cycleState: CycleState): Float64Array {
    const totals = new Float64Array(endpoints.length);
    for (const { plugin, weight, record } of this.#timedScorers) {
      const start = performance.now();
      const scores = plugin.score(cycleState, request, endpoints);
      record((performance.now() - start) / 1000);
      addWeighted(totals, scores, weight);
    }
    return totals;
  }
}

export function addWeighted(totals: Float64Array, scores: ArrayLike<number>, weight: number): void {
  const n = totals.length;
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (s === undefined || !(s > 0)) continue; // NaN, negative, missing → 0
    totals[i]! += (s > 1 ? 1 : s) * weight;
  }
}

export function isProfileFailure(r: ProfileRunResult | ProfileFailure): r is ProfileFailure {
  return (r as ProfileFailure).reason !== undefined;
}
