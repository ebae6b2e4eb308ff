import type { PluginRegistration } from '../../framework/plugin.js';
import type { ProfileHandler, ProfileResults, SchedulerProfile, SchedulingResult } from '../../framework/scheduling.js';
import { EppError, ErrorCodes } from '../../errors.js';

export const SINGLE_PROFILE_HANDLER = 'single-profile-handler';

/** Runs the one profile once; its result is the primary. */
export class SingleProfileHandler implements ProfileHandler {
  readonly type = SINGLE_PROFILE_HANDLER;
  constructor(readonly name: string) {}

  pick(_req: unknown, profiles: ReadonlyMap<string, SchedulerProfile>, resultsSoFar: ProfileResults): readonly SchedulerProfile[] {
    return resultsSoFar.size === 0 ? [...profiles.values()] : [];
  }

  processResults(_req: unknown, results: ProfileResults): SchedulingResult {
    if (results.size !== 1) {
      throw new EppError(ErrorCodes.INTERNAL, `${SINGLE_PROFILE_HANDLER} expects exactly one profile result, got ${results.size}`);
    }
    const [name, result] = [...results][0]!;
    if (!result) throw new EppError(ErrorCodes.NO_CAPACITY, `failed to run scheduler profile "${name}"`);
    return { profileResults: results, primaryProfileName: name };
  }
}

export const registration: PluginRegistration = {
  type: SINGLE_PROFILE_HANDLER,
  takesNoParameters: true,
  factory: (name) => new SingleProfileHandler(name),
};
