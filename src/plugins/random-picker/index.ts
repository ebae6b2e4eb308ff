import type { PluginRegistration, RandomSource } from '../../framework/plugin.js';
import type { Picker, ProfileRunResult, ScoredEndpoint } from '../../framework/scheduling.js';
import { shuffle } from '../../scheduling/random.js';
import { maxNumOfEndpoints } from '../shared/picker-params.js';

export const RANDOM_PICKER = 'random-picker';

/** Uniformly random endpoints, scores ignored. */
export class RandomPicker implements Picker {
  readonly type = RANDOM_PICKER;
  constructor(
    readonly name: string,
    readonly maxNumOfEndpoints: number,
    private readonly random: RandomSource,
  ) {}

  pick(_cs: unknown, scored: readonly ScoredEndpoint[]): ProfileRunResult {
    return { targetEndpoints: shuffle([...scored], this.random).slice(0, this.maxNumOfEndpoints) };
  }
}

export const registration: PluginRegistration = {
  type: RANDOM_PICKER,
  factory: (name, parameters, handle) => new RandomPicker(name, maxNumOfEndpoints(parameters), handle.services.random),
};
