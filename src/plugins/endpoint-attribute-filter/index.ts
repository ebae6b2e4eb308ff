/**
 * endpoint-attribute-filter (llm-d): keeps the endpoints whose numeric attribute passes a threshold.
 * Endpoints without the attribute pass or fail by `onMissing`; with `fallbackOnEmpty`, a filter that would
 * keep nothing keeps everything instead.
 */
import { z } from 'zod';
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Filter } from '../../framework/scheduling.js';
import { param, parseParameters } from '../shared/params.js';
import { numericAttribute, resolveAttributeKey } from '../shared/endpoint-attribute.js';

export const ENDPOINT_ATTRIBUTE_FILTER = 'endpoint-attribute-filter';

const OPERATORS = {
  LessThan: (v: number, t: number) => v < t,
  LessThanOrEqual: (v: number, t: number) => v <= t,
  GreaterThan: (v: number, t: number) => v > t,
  GreaterThanOrEqual: (v: number, t: number) => v >= t,
  Equal: (v: number, t: number) => v === t,
  NotEqual: (v: number, t: number) => v !== t,
} as const;
type Operator = keyof typeof OPERATORS;
const OPERATOR_NAMES = Object.keys(OPERATORS) as [Operator, ...Operator[]];

export const parametersSchema = z.object({
  attribute: z.string({ error: 'is required: the endpoint attribute to read' }).min(1, { error: 'must not be empty' }),
  producer: param.string(),
  onMissing: z.enum(['Pass', 'Fail'], { error: 'must be "Pass" or "Fail"' }).nullish(),
  fallbackOnEmpty: param.bool(),
  algorithm: z.object(
    {
      type: z.literal('threshold', { error: 'must be "threshold" (the only algorithm)' }),
      threshold: z.object(
        {
          operator: z.enum(OPERATOR_NAMES, { error: `must be one of ${OPERATOR_NAMES.join(', ')}` }),
          value: z.number({ error: 'must be a number' }),
        },
        { error: 'is required when algorithm.type is "threshold"' },
      ),
    },
    { error: 'is required: {type: threshold, threshold: {operator, value}}' },
  ),
});

export class EndpointAttributeFilter implements Filter {
  readonly type = ENDPOINT_ATTRIBUTE_FILTER;
  readonly #passes: (v: number, t: number) => boolean;
  constructor(
    readonly name: string,
    readonly key: string,
    readonly operator: Operator,
    readonly threshold: number,
    readonly passOnMissing: boolean,
    readonly fallbackOnEmpty: boolean,
  ) {
    this.#passes = OPERATORS[operator];
  }

  filter(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const kept = endpoints.filter((e) => {
      const v = numericAttribute(e, this.key);
      return v === undefined ? this.passOnMissing : this.#passes(v, this.threshold);
    });
    return kept.length === 0 && this.fallbackOnEmpty ? endpoints : kept;
  }
}

export const registration: PluginRegistration = {
  type: ENDPOINT_ATTRIBUTE_FILTER,
  parameters: parametersSchema,
  factory: (name, parameters) => {
    const p = parseParameters(parametersSchema, parameters);
    const key = resolveAttributeKey('parameters.attribute', p.attribute, p.producer);
    const { operator, value } = p.algorithm.threshold;
    return new EndpointAttributeFilter(name, key, operator, value, (p.onMissing ?? 'Pass') === 'Pass', p.fallbackOnEmpty ?? false);
  },
};
