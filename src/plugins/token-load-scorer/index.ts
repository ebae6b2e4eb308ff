import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Scorer } from '../../framework/scheduling.js';
import { paramsOf, positiveNumber } from '../shared/params.js';

export const TOKEN_LOAD_SCORER = 'token-load-scorer';
export const DEFAULT_QUEUE_THRESHOLD_TOKENS = 4_194_304;

export class TokenLoadScorer implements Scorer {
  readonly type = TOKEN_LOAD_SCORER;
  readonly category = 'balance' as const;
  constructor(
    readonly name: string,
    readonly queueThresholdTokens: number,
  ) {}

  score(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): Float64Array {
    const scores = new Float64Array(endpoints.length);
    for (let i = 0; i < endpoints.length; i++) {
      scores[i] = 1 - Math.min(1, endpoints[i]!.load.inFlightTokens / this.queueThresholdTokens);
    }
    return scores;
  }
}

export const registration: PluginRegistration = {
  type: TOKEN_LOAD_SCORER,
  factory: (name, parameters) =>
    new TokenLoadScorer(name, positiveNumber(paramsOf(parameters), 'queueThresholdTokens', DEFAULT_QUEUE_THRESHOLD_TOKENS)),
};
