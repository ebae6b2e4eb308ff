/**
 * endpoint-attribute-scorer (llm-d): scores endpoints by a numeric attribute, linearly between a range:
 * the candidates' own smallest and largest value (`adaptiveRange`, the default; all equal → 1) or a fixed
 * `min`/`max` (values outside clamped). `linear_lower_is_better` inverts it. No attribute → 0.
 */
import { z } from 'zod';
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Scorer } from '../../framework/scheduling.js';
import { ConfigError } from '../../errors.js';
import { param, parseParameters } from '../shared/params.js';
import { numericAttribute, resolveAttributeKey } from '../shared/endpoint-attribute.js';

export const ENDPOINT_ATTRIBUTE_SCORER = 'endpoint-attribute-scorer';

const ALGORITHMS = ['linear_lower_is_better', 'linear_higher_is_better'] as const;

export const parametersSchema = z.object({
  attributeKey: z.string({ error: 'is required: the endpoint attribute to read' }).min(1, { error: 'must not be empty' }),
  producer: param.string(),
  algorithm: z.object(
    {
      type: z.enum(ALGORITHMS, { error: `must be ${ALGORITHMS.join(' or ')}` }),
      normalization: z
        .object({
          fixedRange: z.object({ min: z.number({ error: 'must be a number' }), max: z.number({ error: 'must be a number' }) }).nullish(),
          adaptiveRange: z.object({}).nullish(),
        })
        .nullish(),
    },
    { error: `is required: {type: ${ALGORITHMS.join(' | ')}}` },
  ),
});

export class EndpointAttributeScorer implements Scorer {
  readonly type = ENDPOINT_ATTRIBUTE_SCORER;
  readonly category = 'distribution' as const;
  /** Reads endpoint attributes only. */
  readonly poolCapable = true;
  constructor(
    readonly name: string,
    readonly key: string,
    readonly lowerIsBetter: boolean,
    /** [min, max], or undefined for the candidates' own range. */
    readonly fixedRange: readonly [number, number] | undefined,
  ) {}

  score(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): Float64Array {
    const values = endpoints.map((e) => numericAttribute(e, this.key));
    let [min, max] = this.fixedRange ?? [Infinity, -Infinity];
    if (!this.fixedRange) for (const v of values) if (v !== undefined) [min, max] = [Math.min(min, v), Math.max(max, v)];
    const scores = new Float64Array(endpoints.length);
    values.forEach((v, i) => {
      if (v === undefined) return; // 0
      if (max === min) return void (scores[i] = 1);
      const x = Math.min(1, Math.max(0, (v - min) / (max - min)));
      scores[i] = this.lowerIsBetter ? 1 - x : x;
    });
    return scores;
  }
}

export const registration: PluginRegistration = {
  type: ENDPOINT_ATTRIBUTE_SCORER,
  parameters: parametersSchema,
  factory: (name, parameters) => {
    const p = parseParameters(parametersSchema, parameters);
    const key = resolveAttributeKey('parameters.attributeKey', p.attributeKey, p.producer);
    const { fixedRange, adaptiveRange } = p.algorithm.normalization ?? {};
    if (fixedRange && adaptiveRange) throw new ConfigError('parameters.algorithm.normalization', 'allows one strategy, got both fixedRange and adaptiveRange');
    if (fixedRange && fixedRange.min >= fixedRange.max) throw new ConfigError('parameters.algorithm.normalization.fixedRange', `needs min < max, got min ${fixedRange.min}, max ${fixedRange.max}`);
    return new EndpointAttributeScorer(name, key, p.algorithm.type === 'linear_lower_is_better', fixedRange ? [fixedRange.min, fixedRange.max] : undefined);
  },
};
