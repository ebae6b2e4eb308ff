import type { CycleState } from '../framework/cycle-state.js';
import type { Endpoint } from '../framework/endpoint.js';
import type { InferenceRequest } from '../framework/request.js';
import type {
  ProfileHandler,
  ProfileRunResult,
  Scheduler,
  SchedulerProfile,
  SchedulingResult,
} from '../framework/scheduling.js';
import { EppError, ErrorCodes } from '../errors.js';
import { ExtensionPoints, nullObserver, type DurationRecorder, type SchedulingObserver } from './observer.js';
import { isProfileFailure, ProfileRunner, type PlacementEvent, type ProfileFailure } from './profile-runner.js';
import { checkCycleStateWriters, type PlacementPolicy } from './placement.js';
import type { PooledScoring } from './pooled-scoring.js';
import type { ScoreTrace } from './score-trace.js';

export interface SchedulerConfig {
  readonly profileHandler: ProfileHandler;
  readonly profiles: readonly SchedulerProfile[];
}

export interface SchedulerOptions {
  /** Where scorers may run; default everything inline. */
  readonly placement?: PlacementPolicy;
  /** The worker pool's scoring; absent or without threads, everything runs inline. */
  readonly pool?: PooledScoring;
  readonly onPlacement?: (e: PlacementEvent) => void;
  /** Per-scorer scores for the status page (see score-trace.ts). */
  readonly trace?: ScoreTrace;
}

type Round = { results: Map<string, ProfileRunResult | undefined>; failures: ProfileFailure[] };

/**
 * Runs the ProfileHandler loop: `pick` until it returns no profiles, run the returned profiles, then
 * `processResults`. A handler that keeps returning profiles is cut off after every profile could have run
 * many times, so a plugin bug cannot hang a request. The profiles of one `pick` run concurrently: their
 * pooled scorers go to workers together while the inline ones run here, then each picks, in the order
 * returned. With nothing pooled the whole schedule is synchronous.
 */
export class ProfileScheduler implements Scheduler {
  readonly #handler: ProfileHandler;
  readonly #profiles: ReadonlyMap<string, ProfileRunner>;
  readonly #observer: SchedulingObserver;
  readonly #timePick: DurationRecorder;
  readonly #timeProcess: DurationRecorder;
  readonly #maxRounds: number;

  constructor(config: SchedulerConfig, observer: SchedulingObserver = nullObserver, options: SchedulerOptions = {}) {
    checkCycleStateWriters(config.profiles);
    this.#handler = config.profileHandler;
    this.#observer = observer;
    this.#profiles = new Map(config.profiles.map((p) => [p.name, new ProfileRunner(p, observer, options)]));
    this.#timePick = observer.pluginTimer(ExtensionPoints.profilePick, config.profileHandler);
    this.#timeProcess = observer.pluginTimer(ExtensionPoints.processResults, config.profileHandler);
    this.#maxRounds = Math.max(8, this.#profiles.size * 4);
  }

  get profiles(): ReadonlyMap<string, ProfileRunner> {
    return this.#profiles;
  }

  schedule(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): SchedulingResult | Promise<SchedulingResult> {
    const start = performance.now();
    let result: SchedulingResult | Promise<SchedulingResult>;
    try {
      result = this.#rounds(0, { results: new Map(), failures: [] }, request, candidates, cycleState);
    } catch (err) {
      this.#observer.cycleDone((performance.now() - start) / 1000, false);
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        (r) => (this.#observer.cycleDone((performance.now() - start) / 1000, true), r),
        (err: unknown) => {
          this.#observer.cycleDone((performance.now() - start) / 1000, false);
          throw err;
        },
      );
    }
    this.#observer.cycleDone((performance.now() - start) / 1000, true);
    return result;
  }

  /** `schedule` for configs known to have nothing pooled (tests, benchmarks); a pooled profile is an error. */
  scheduleSync(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): SchedulingResult {
    const result = this.schedule(request, candidates, cycleState);
    if (result instanceof Promise) throw new TypeError('ProfileScheduler.scheduleSync: a profile has scorers on the worker pool');
    return result;
  }

  /** The handler loop from round `first`; turns asynchronous only at a round with pooled scoring. */
  #rounds(first: number, state: Round, request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): SchedulingResult | Promise<SchedulingResult> {
    for (let round = first; ; round++) {
      if (round >= this.#maxRounds) {
        throw new EppError(ErrorCodes.INTERNAL, `profile handler "${this.#handler.name}" did not stop after ${round} rounds`);
      }
      const t = performance.now();
      const picked = this.#handler.pick(request, this.#profiles, state.results, cycleState);
      this.#timePick((performance.now() - t) / 1000);
      if (picked.length === 0) break;
      let pooled = false;
      for (const profile of picked) {
        const runner = this.#profiles.get(profile.name);
        if (!runner) throw new EppError(ErrorCodes.INTERNAL, `profile handler returned unknown profile "${profile.name}"`);
        if (runner.pooled) pooled = true;
      }
      if (!pooled) {
        // Each sees the candidates, none sees the others' results.
        for (const profile of picked) this.#record(state, profile.name, this.#profiles.get(profile.name)!.run(request, candidates, cycleState) as ProfileRunResult | ProfileFailure);
        continue;
      }
      const runners = picked.map((profile) => this.#profiles.get(profile.name)!);
      // Every profile's filters and inline scorers run now, their pooled scorers on workers at once;
      // the picks follow in the handler's order once all are back.
      const scoring = runners.map((r) => r.score(request, candidates, cycleState));
      return Promise.all(scoring).then((scored) => {
        scored.forEach((s, i) => this.#record(state, runners[i]!.name, isProfileFailure(s) ? s : runners[i]!.pick(cycleState, s)));
        return this.#rounds(round + 1, state, request, candidates, cycleState);
      });
    }
    return this.#finish(state, request, cycleState);
  }

  #record(state: Round, profile: string, outcome: ProfileRunResult | ProfileFailure): void {
    if (isProfileFailure(outcome)) {
      state.failures.push(outcome);
      state.results.set(profile, undefined);
    } else {
      state.results.set(profile, outcome);
    }
  }

  #finish({ results, failures }: Round, request: InferenceRequest, cycleState: CycleState): SchedulingResult {
    if (results.size === 0) {
      throw new EppError(ErrorCodes.INTERNAL, `profile handler "${this.#handler.name}" ran no profile`);
    }
    const t = performance.now();
    try {
      return this.#handler.processResults(request, results, cycleState);
    } catch (err) {
      if (err instanceof EppError && failures.length > 0) {
        const why = failures.map((f) => `profile "${f.profile}": ${f.reason}`).join('; ');
        throw new EppError(err.code, `${err.message}: ${why}`, { cause: err });
      }
      throw err;
    } finally {
      this.#timeProcess((performance.now() - t) / 1000);
    }
  }
}
