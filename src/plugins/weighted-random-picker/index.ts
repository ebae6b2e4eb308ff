import type { PluginRegistration, RandomSource } from '../../framework/plugin.js';
import type { Picker, ProfileRunResult, ScoredEndpoint } from '../../framework/scheduling.js';
import { shuffle } from '../../scheduling/random.js';
import { maxNumOfEndpoints } from '../shared/picker-params.js';

export const WEIGHTED_RANDOM_PICKER = 'weighted-random-picker';

/**
 * Random in proportion to score, without replacement (A-Res: key = U^(1/score), the N largest keys win).
 * A score ≤ 0 gets key 0; when every score is ≤ 0 the pick is uniform.
 */
export class WeightedRandomPicker implements Picker {
  readonly type = WEIGHTED_RANDOM_PICKER;
  constructor(
    readonly name: string,
    readonly maxNumOfEndpoints: number,
    private readonly random: RandomSource,
  ) {}

  pick(_cs: unknown, scored: readonly ScoredEndpoint[]): ProfileRunResult {
    if (!scored.some((s) => s.score > 0)) {
      return { targetEndpoints: shuffle([...scored], this.random).slice(0, this.maxNumOfEndpoints) };
    }
    const keyed = scored.map((s) => ({ s, key: s.score > 0 ? Math.pow(this.random.next(), 1 / s.score) : 0 }));
    keyed.sort((a, b) => b.key - a.key);
    return { targetEndpoints: keyed.slice(0, this.maxNumOfEndpoints).map((k) => k.s) };
  }
}

export const registration: PluginRegistration = {
  type: WEIGHTED_RANDOM_PICKER,
  factory: (name, parameters, handle) => new WeightedRandomPicker(name, maxNumOfEndpoints(parameters), handle.services.random),
};
