import type { ProfileRunResult, ScoredEndpoint } from '../../framework/scheduling.js';
import { shuffle } from '../shared/shuffle.js';
import { pickerRegistration, RandomizedPicker } from '../shared/picker.js';

export const MAX_SCORE_PICKER = 'max-score-picker';

/** Highest score first; ties broken at random (shuffle, then a stable sort). */
export class MaxScorePicker extends RandomizedPicker {
  readonly type = MAX_SCORE_PICKER;

  pick(_cs: unknown, scored: readonly ScoredEndpoint[]): ProfileRunResult {
    if (this.maxNumOfEndpoints === 1) {
      // One pass, no copy: the k-th endpoint tying the best so far replaces it with probability 1/k, so
      // each of the tied maxima is equally likely, and the random source is drawn only on ties.
      let best: ScoredEndpoint | undefined;
      let ties = 0;
      for (const s of scored) {
        if (!best || s.score > best.score) [best, ties] = [s, 1];
        else if (s.score === best.score && this.random.next() * ++ties < 1) best = s;
      }
      return { targetEndpoints: best ? [best] : [] };
    }
    const order = shuffle([...scored], this.random);
    order.sort((a, b) => b.score - a.score); // Array.prototype.sort is stable
    return { targetEndpoints: order.slice(0, this.maxNumOfEndpoints) };
  }
}

export const registration = pickerRegistration(MAX_SCORE_PICKER, MaxScorePicker);
