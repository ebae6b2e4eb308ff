import type { ProfileRunResult, ScoredEndpoint } from '../../framework/scheduling.js';
import { shuffle } from '../shared/shuffle.js';
import { pickerRegistration, RandomizedPicker } from '../shared/picker.js';

export const WEIGHTED_RANDOM_PICKER = 'weighted-random-picker';

/**
 * Random in proportion to score, without replacement (A-Res: key = U^(1/score), the N largest keys win).
 * A score ≤ 0 gets key 0; when every score is ≤ 0 the pick is uniform.
 */
export class WeightedRandomPicker extends RandomizedPicker {
  readonly type = WEIGHTED_RANDOM_PICKER;

  pick(_cs: unknown, scored: readonly ScoredEndpoint[]): ProfileRunResult {
    if (!scored.some((s) => s.score > 0)) {
      return { targetEndpoints: shuffle([...scored], this.random).slice(0, this.maxNumOfEndpoints) };
    }
    const keyed = scored.map((s) => ({ s, key: s.score > 0 ? Math.pow(this.random.next(), 1 / s.score) : 0 }));
    keyed.sort((a, b) => b.key - a.key);
    return { targetEndpoints: keyed.slice(0, this.maxNumOfEndpoints).map((k) => k.s) };
  }
}

export const registration = pickerRegistration(WEIGHTED_RANDOM_PICKER, WeightedRandomPicker);
