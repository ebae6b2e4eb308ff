/**
 * load-aware-scorer (llm-d): an idle queue scores 0.5; a queue of q scores 0.5 · (1 − min(q, threshold) / threshold).
 * The queue is the scraped one plus what this EPP dispatched since that scrape, as queue-scorer's.
 */
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Scorer } from '../../framework/scheduling.js';
import { paramsOf } from '../shared/params.js';
import { expectedQueue } from '../queue-scorer/index.js';
import { knownParameters } from '../shared/schema-params.js';

export const LOAD_AWARE_SCORER = 'load-aware-scorer';
export const DEFAULT_QUEUE_THRESHOLD = 128;

export class LoadAwareScorer implements Scorer {
  readonly type = LOAD_AWARE_SCORER;
  readonly category = 'distribution' as const;
  constructor(
    readonly name: string,
    readonly threshold: number,
  ) {}

  score(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): Float64Array {
    const scores = new Float64Array(endpoints.length);
    for (let i = 0; i < endpoints.length; i++) {
      const q = expectedQueue(endpoints[i]!);
      scores[i] = q <= 0 ? 0.5 : 0.5 * (1 - Math.min(q, this.threshold) / this.threshold);
    }
    return scores;
  }
}

export const registration: PluginRegistration = {
  type: LOAD_AWARE_SCORER,
  parameters: knownParameters('threshold'),
  factory: (name, parameters, handle) => {
    const v = paramsOf(parameters)['threshold'];
    let threshold = DEFAULT_QUEUE_THRESHOLD;
    if (v !== undefined && v !== null) {
      // As llm-d: a non-positive threshold falls back to the default with a message, it does not fail.
      if (typeof v === 'number' && Number.isInteger(v) && v > 0) threshold = v;
      else handle.warn(`threshold ${JSON.stringify(v)} should be a positive integer; using ${DEFAULT_QUEUE_THRESHOLD}`);
    }
    return new LoadAwareScorer(name, threshold);
  },
};
