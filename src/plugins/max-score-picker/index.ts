import type { ProfileRunResult, ScoredEndpoint } from '../../framework/scheduling.js';
import { shuffle } from '../shared/shuffle.js';
import { pickerRegistration, RandomizedPicker } from '../shared/picker.js';

export const MAX_SCORE_PICKER = 'max-score-picker';

/** Highest score first; ties broken at random (shuffle, then a stable sort). */
export class MaxScorePicker extends RandomizedPicker {
  readonly type = MAX_SCORE_PICKER;

  pick(_cs: unknown, scored: readonly ScoredEndpoint[]): ProfileRunResult {
    const order = shuffle([...scored], this.random);
    if (this.maxNumOfEndpoints === 1) {
      // One pass instead of a sort: the first maximum of the shuffled list is a random tie-break.
      let best: ScoredEndpoint | undefined;
      for (const s of order) if (!best || s.score > best.score) best = s;
      return { targetEndpoints: best ? [best] : [] };
    }
    order.sort((a, b) => b.score - a.score); // Array.prototype.sort is stable
    return { targetEndpoints: order.slice(0, this.maxNumOfEndpoints) };
  }
}

export const registration = pickerRegistration(MAX_SCORE_PICKER, MaxScorePicker);
