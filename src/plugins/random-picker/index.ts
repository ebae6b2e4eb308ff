import type { ProfileRunResult, ScoredEndpoint } from '../../framework/scheduling.js';
import { shuffle } from '../shared/shuffle.js';
import { pickerRegistration, RandomizedPicker } from '../shared/picker.js';

export const RANDOM_PICKER = 'random-picker';

/** Uniformly random endpoints, scores ignored. */
export class RandomPicker extends RandomizedPicker {
  readonly type = RANDOM_PICKER;

  pick(_cs: unknown, scored: readonly ScoredEndpoint[]): ProfileRunResult {
    return { targetEndpoints: shuffle([...scored], this.random).slice(0, this.maxNumOfEndpoints) };
  }
}

export const registration = pickerRegistration(RANDOM_PICKER, RandomPicker);
