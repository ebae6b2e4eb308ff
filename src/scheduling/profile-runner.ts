import type { CycleState } from '../framework/cycle-state.js';
import type { Endpoint } from '../framework/endpoint.js';
import type { InferenceRequest } from '../framework/request.js';
import type { Filter, Picker, ProfileRunResult, SchedulerProfile, ScoredEndpoint, Scorer, WeightedScorer } from '../framework/scheduling.js';
import { ExtensionPoints, type DurationRecorder, type SchedulingObserver } from './observer.js';
import { placementOf, type Placement, type PlacementPolicy } from './placement.js';
import type { PooledScoring } from './pooled-scoring.js';
import type { ScoreTrace } from './score-trace.js';

export const NO_ENDPOINTS_FOR_REQUEST = 'no endpoints available for the given request';

interface Timed<T> {
  readonly plugin: T;
  readonly record: DurationRecorder;
}

/** A scorer of this profile with where it runs now and what it costs there (µs, moving averages). */
interface PlacedScorer extends Timed<Scorer> {
  readonly weight: number;
  readonly asked: Placement;
  pooled: boolean;
  inlineUs: number;
  workerUs: number;
}

/** Why a profile produced no result; kept so the final error can say which filter emptied the set. */
export interface ProfileFailure {
  readonly profile: string;
  readonly reason: string;
}

/** Filters and inline scoring done; the picker runs once the pooled scores (if any) are in. */
export interface Scored {
  readonly endpoints: readonly Endpoint[];
  readonly totals: Float64Array;
}

/** A placement change or the start-up placement, for the log and the placement metric. */
export interface PlacementEvent {
  readonly profile: string;
  readonly plugin: string;
  readonly placement: 'inline' | 'pool';
  readonly why: string;
}

export interface ProfileRunnerOptions {
  readonly placement?: PlacementPolicy;
  readonly pool?: PooledScoring;
  readonly onPlacement?: (e: PlacementEvent) => void;
  /** Cycles between two `auto` re-evaluations. */
  readonly replanEvery?: number;
  /** Per-scorer scores for the status page, recorded only while it is active. */
  readonly trace?: ScoreTrace;
}

/** Weight of a new sample in the moving averages of scorer and hand-off costs. */
const EWMA = 0.05;

/**
 * One profile, prepared once at start-up: Filters in order → weighted Scorers → Picker. Timers are bound
 * here so a run does no label lookups. With nothing on the worker pool a run is synchronous and allocates
 * what it always did; with pooled scorers their task goes out first, the inline scorers run meanwhile, and
 * the pick waits for the pooled vectors.
 */
export class ProfileRunner implements SchedulerProfile {
  readonly name: string;
  readonly filters: readonly Filter[];
  readonly scorers: readonly WeightedScorer[];
  readonly picker: Picker;
  readonly #timedFilters: Timed<Filter>[];
  readonly #placed: PlacedScorer[];
  readonly #timedPicker: Timed<Picker>;
  readonly #pool: PooledScoring | undefined;
  readonly #onPlacement: ((e: PlacementEvent) => void) | undefined;
  readonly #replanEvery: number;
  readonly #trace: ScoreTrace | undefined;
  /** Scorers placed inline and on the pool now (rebuilt when `auto` moves one). */
  #inline: PlacedScorer[] = [];
  #pooled: PlacedScorer[] = [];
  #pooledScorers: Scorer[] = [];
  #hasAuto: boolean;
  #runs = 0;

  constructor(profile: SchedulerProfile, observer: SchedulingObserver, options: ProfileRunnerOptions = {}) {
    this.name = profile.name;
    this.filters = profile.filters;
    this.scorers = profile.scorers;
    this.picker = profile.picker;
    this.#pool = options.pool;
    this.#onPlacement = options.onPlacement;
    this.#replanEvery = options.replanEvery ?? 256;
    this.#trace = options.trace;
    this.#timedFilters = profile.filters.map((f) => ({ plugin: f, record: observer.pluginTimer(ExtensionPoints.filter, f) }));
    const policy = options.placement ?? { default: 'inline', byPlugin: new Map() };
    this.#placed = profile.scorers.map(({ scorer, weight }) => {
      const asked = scorer.poolCapable ? placementOf(policy, scorer.name) : 'inline';
      return { plugin: scorer, weight, record: observer.pluginTimer(ExtensionPoints.scorer, scorer), asked, pooled: false, inlineUs: 0, workerUs: 0 };
    });
    const threads = this.#pool?.threads ?? 0;
    // With no threads `auto` can move nothing: the run stays on the plain synchronous path.
    this.#hasAuto = threads > 0 && this.#placed.some((s) => s.asked === 'auto');
    for (const s of this.#placed) {
      const wanted = policy.byPlugin.get(s.plugin.name) ?? policy.default;
      let why: string;
      if (!s.plugin.poolCapable) why = wanted === 'inline' ? 'asked' : 'not pool-capable: reads main-thread state';
      else if (s.asked === 'pool') {
        s.pooled = threads > 0;
        why = s.pooled ? 'asked' : 'asked for the pool, but it has no threads';
      } else if (s.asked === 'auto') why = threads > 0 ? 'auto: inline until its measured time exceeds a hand-off' : 'auto: the pool has no threads';
      else why = 'asked';
      this.#onPlacement?.({ profile: this.name, plugin: s.plugin.name, placement: s.pooled ? 'pool' : 'inline', why });
    }
    this.#split();
    this.#timedPicker = { plugin: profile.picker, record: observer.pluginTimer(ExtensionPoints.picker, profile.picker) };
  }

  /** True when some scorer of this profile runs on the pool now. */
  get pooled(): boolean {
    return this.#pooled.length > 0;
  }

  /** Where each scorer runs now, by name. */
  placements(): Map<string, 'inline' | 'pool'> {
    return new Map(this.#placed.map((s) => [s.plugin.name, s.pooled ? 'pool' : 'inline']));
  }

  #split(): void {
    this.#inline = this.#placed.filter((s) => !s.pooled);
    this.#pooled = this.#placed.filter((s) => s.pooled);
    this.#pooledScorers = this.#pooled.map((s) => s.plugin);
  }

  /**
   * Returns the result, or a failure reason when the filters left no endpoint. Synchronous, with the
   * allocations it always had, when nothing of this profile is pooled.
   */
  run(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): ProfileRunResult | ProfileFailure | Promise<ProfileRunResult | ProfileFailure> {
    if (this.#pooled.length === 0 && !this.#hasAuto) {
      const endpoints = this.#filter(request, candidates, cycleState);
      if (isProfileFailure(endpoints)) return endpoints;
      const totals = new Float64Array(endpoints.length);
      this.#scoreInline(this.#inline, request, endpoints, cycleState, totals);
      return this.#pick(cycleState, endpoints, totals);
    }
    const scored = this.score(request, candidates, cycleState);
    if (scored instanceof Promise) return scored.then((s) => (isProfileFailure(s) ? s : this.pick(cycleState, s)));
    return isProfileFailure(scored) ? scored : this.pick(cycleState, scored);
  }

  #filter(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): readonly Endpoint[] | ProfileFailure {
    let endpoints = candidates;
    for (const { plugin, record } of this.#timedFilters) {
      const start = performance.now();
      endpoints = plugin.filter(cycleState, request, endpoints);
      record((performance.now() - start) / 1000);
      if (endpoints.length === 0) return this.#failure(cycleState, `${NO_ENDPOINTS_FOR_REQUEST} (filter "${plugin.name}" left none)`);
    }
    if (endpoints.length === 0) return this.#failure(cycleState, NO_ENDPOINTS_FOR_REQUEST); // nothing to filter from
    return endpoints;
  }

  #failure(cycleState: CycleState, reason: string): ProfileFailure {
    if (this.#trace?.active) this.#trace.failed(cycleState, this.name, reason);
    return { profile: this.name, reason };
  }

  /**
   * Filters, then scoring: synchronous when nothing of this profile is pooled. Otherwise the pooled
   * scorers' task is sent first (it reads the cycle state as it stands now), the inline scorers run while
   * it is out, and the pooled vectors and cycle-state writes are merged in profile order when it is back.
   */
  score(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): Scored | ProfileFailure | Promise<Scored | ProfileFailure> {
    if (this.#hasAuto && ++this.#runs % this.#replanEvery === 0) this.#replan();
    const endpoints = this.#filter(request, candidates, cycleState);
    if (isProfileFailure(endpoints)) return endpoints;
    const totals = new Float64Array(endpoints.length);
    if (this.#pooled.length === 0) {
      this.#scoreInline(this.#inline, request, endpoints, cycleState, totals);
      return { endpoints, totals };
    }
    const pooled = this.#pooled;
    const task = this.#pool!.score({ profile: this.name, request, candidates: endpoints, cycleState, scorers: this.#pooledScorers });
    this.#scoreInline(this.#inline, request, endpoints, cycleState, totals);
    return task.then((outcome) => {
      if (!outcome.ok) {
        // The pool failed this task (it counted and logged why): score here, in profile order.
        this.#scoreInline(pooled, request, endpoints, cycleState, totals);
        return { endpoints, totals };
      }
      const { scores, deltas, computeUs } = outcome.value;
      for (let i = 0; i < pooled.length; i++) {
        const s = pooled[i]!;
        s.record(computeUs[i]! / 1e6);
        s.workerUs += (computeUs[i]! - s.workerUs) * EWMA;
        addWeighted(totals, scores[i]!, s.weight);
        if (this.#trace?.active) this.#trace.scored(cycleState, this.name, s.plugin.name, s.weight, endpoints, scores[i]!);
        for (const [key, value] of deltas[i]!) cycleState.write(key, value);
      }
      return { endpoints, totals };
    });
  }

  #scoreInline(scorers: readonly PlacedScorer[], request: InferenceRequest, endpoints: readonly Endpoint[], cycleState: CycleState, totals: Float64Array): void {
    for (const s of scorers) {
      const start = performance.now();
      const scores = s.plugin.score(cycleState, request, endpoints);
      const took = performance.now() - start;
      s.record(took / 1000);
      s.inlineUs += (took * 1000 - s.inlineUs) * EWMA;
      addWeighted(totals, scores, s.weight);
      if (this.#trace?.active) this.#trace.scored(cycleState, this.name, s.plugin.name, s.weight, endpoints, scores);
    }
  }

  pick(cycleState: CycleState, { endpoints, totals }: Scored): ProfileRunResult {
    return this.#pick(cycleState, endpoints, totals);
  }

  #pick(cycleState: CycleState, endpoints: readonly Endpoint[], totals: Float64Array): ProfileRunResult {
    const picker = this.#timedPicker.plugin;
    let scored: ScoredEndpoint[] | undefined;
    if (!picker.pickTotals) {
      scored = new Array(endpoints.length);
      for (let i = 0; i < endpoints.length; i++) scored[i] = { endpoint: endpoints[i]!, score: totals[i]! };
    }
    const start = performance.now();
    const result = scored ? picker.pick(cycleState, scored) : picker.pickTotals!(cycleState, endpoints, totals);
    this.#timedPicker.record((performance.now() - start) / 1000);
    if (this.#trace?.active) this.#trace.picked(cycleState, this.name, endpoints, totals, result);
    return result;
  }

  /** `auto`: a scorer goes to the pool when its inline time exceeds a hand-off, back when its worker time is under half one. */
  #replan(): void {
    const handOff = this.#pool?.roundTripUs();
    if (!this.#pool || this.#pool.threads === 0 || handOff === undefined) return;
    let moved = false;
    for (const s of this.#placed) {
      if (s.asked !== 'auto') continue;
      if (!s.pooled && s.inlineUs > handOff) {
        s.pooled = true;
        s.workerUs = s.inlineUs;
        this.#onPlacement?.({ profile: this.name, plugin: s.plugin.name, placement: 'pool', why: `auto: ${s.inlineUs.toFixed(0)} µs inline > ${handOff.toFixed(0)} µs hand-off` });
        moved = true;
      } else if (s.pooled && s.workerUs < handOff / 2) {
        s.pooled = false;
        s.inlineUs = s.workerUs;
        this.#onPlacement?.({ profile: this.name, plugin: s.plugin.name, placement: 'inline', why: `auto: ${s.workerUs.toFixed(0)} µs on a worker < half a ${handOff.toFixed(0)} µs hand-off` });
        moved = true;
      }
    }
    if (moved) this.#split();
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

export function isProfileFailure(r: object): r is ProfileFailure {
  return (r as ProfileFailure).reason !== undefined;
}
