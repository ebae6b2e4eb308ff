import type { Endpoint } from '../../framework/endpoint.js';
import type { ProfileRunResult, ScoredEndpoint } from '../../framework/scheduling.js';
import { shuffle } from '../shared/shuffle.js';
import { pickerRegistration, RandomizedPicker } from '../shared/picker.js';

export const MAX_SCORE_PICKER = 'max-score-picker';

/** Highest score first; ties broken at random (shuffle, then a stable sort). */
export class MaxScorePicker extends RandomizedPicker {
  readonly type = MAX_SCORE_PICKER;

  pick(_cs: unknown, scored: readonly ScoredEndpoint[]): ProfileRunResult {
    if (this.maxNumOfEndpoints === 1) {
      const best = this.#best(scored.length, (i) => scored[i]!.score);
      return { targetEndpoints: best < 0 ? [] : [scored[best]!] };
    }
    const order = shuffle([...scored], this.random);
    order.sort((a, b) => b.score - a.score); // Array.prototype.sort is stable
    return { targetEndpoints: order.slice(0, this.maxNumOfEndpoints) };
  }

  /** The runner's allocation-free path: for one pick, no object per candidate. */
  pickTotals(cs: unknown, endpoints: readonly Endpoint[], totals: Float64Array): ProfileRunResult {
    if (this.maxNumOfEndpoints !== 1) return this.pick(cs, Array.from(endpoints, (endpoint, i) => ({ endpoint, score: totals[i]! })));
    const best = this.#best(totals.length, (i) => totals[i]!);
    return { targetEndpoints: best < 0 ? [] : [{ endpoint: endpoints[best]!, score: totals[best]! }] };
  }

  /**
   * Index of the highest score, -1 for none. One pass, no copy: the k-th index tying the best so far
   * replaces it with probability 1/k, so each of the tied maxima is equally likely, and the random source
   * is drawn only on ties.
   */
  #best(n: number, score: (i: number) => number): number {
    let best = -1;
    let top = -Infinity;
    let ties = 0;
    for (let i = 0; i < n; i++) {
      const s = score(i);
      if (best < 0 || s > top) {
        best = i;
        top = s;
        ties = 1;
      } else if (s === top && this.random.next() * ++ties < 1) best = i;
    }
    return best;
  }
}

export const registration = pickerRegistration(MAX_SCORE_PICKER, MaxScorePicker);
