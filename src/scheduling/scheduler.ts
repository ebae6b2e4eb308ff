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
import { isProfileFailure, ProfileRunner, type ProfileFailure } from './profile-runner.js';

export interface SchedulerConfig {
  readonly profileHandler: ProfileHandler;
  readonly profiles: readonly SchedulerProfile[];
}

/**
 * Runs the ProfileHandler loop: `pick` until it returns no profiles, run the returned profiles, then
 * `processResults`. A handler that keeps returning profiles is cut off after every profile could have run
 * many times, so a plugin bug cannot hang a request.
 */
export class ProfileScheduler implements Scheduler {
  readonly #handler: ProfileHandler;
  readonly #profiles: ReadonlyMap<string, ProfileRunner>;
  readonly #observer: SchedulingObserver;
  readonly #timePick: DurationRecorder;
  readonly #timeProcess: DurationRecorder;
  readonly #maxRounds: number;

  constructor(config: SchedulerConfig, observer: SchedulingObserver = nullObserver) {
    this.#handler = config.profileHandler;
    this.#observer = observer;
    this.#profiles = new Map(config.profiles.map((p) => [p.name, new ProfileRunner(p, observer)]));
    this.#timePick = observer.pluginTimer(ExtensionPoints.profilePick, config.profileHandler);
    this.#timeProcess = observer.pluginTimer(ExtensionPoints.processResults, config.profileHandler);
    this.#maxRounds = Math.max(8, this.#profiles.size * 4);
  }

  get profiles(): ReadonlyMap<string, SchedulerProfile> {
    return this.#profiles;
  }

  schedule(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): SchedulingResult {
    const start = performance.now();
    let ok = false;
    try {
      const result = this.#schedule(request, candidates, cycleState);
      ok = true;
      return result;
    } finally {
      this.#observer.cycleDone((performance.now() - start) / 1000, ok);
    }
  }

  #schedule(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): SchedulingResult {
    const results = new Map<string, ProfileRunResult | undefined>();
    const failures: ProfileFailure[] = [];
    for (let round = 0; ; round++) {
      if (round >= this.#maxRounds) {
        throw new EppError(ErrorCodes.INTERNAL, `profile handler "${this.#handler.name}" did not stop after ${round} rounds`);
      }
      let t = performance.now();
      const picked = this.#handler.pick(request, this.#profiles, results, cycleState);
      this.#timePick((performance.now() - t) / 1000);
      if (picked.length === 0) break;
      // Profiles from one pick run one after another here; each sees the candidates, none sees the others' results.
      for (const profile of picked) {
        const runner = this.#profiles.get(profile.name);
        if (!runner) throw new EppError(ErrorCodes.INTERNAL, `profile handler returned unknown profile "${profile.name}"`);
        const outcome = runner.run(request, candidates, cycleState);
        if (isProfileFailure(outcome)) {
          failures.push(outcome);
          results.set(profile.name, undefined);
        } else {
          results.set(profile.name, outcome);
        }
      }
    }
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
