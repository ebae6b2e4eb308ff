import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Scorer } from '../../framework/scheduling.js';
import { z } from 'zod';
import { param, parseParameters } from '../shared/params.js';

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

/** The parameters this plugin knows. */
export const parametersSchema = z.object({ queueThresholdTokens: param.positiveNumber() });

export const registration: PluginRegistration = {
  type: TOKEN_LOAD_SCORER,
  parameters: parametersSchema,
  factory: (name, parameters) => new TokenLoadScorer(name, parseParameters(parametersSchema, parameters).queueThresholdTokens ?? DEFAULT_QUEUE_THRESHOLD_TOKENS),
};
