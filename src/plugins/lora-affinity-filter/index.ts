/**
 * lora-affinity-filter (GIE v0.5): endpoints with the target adapter active or loading ("affinity") and
 * endpoints with a free adapter slot ("available"). With both, affinity wins with probability `threshold`
 * (0.999), else available; otherwise whichever is non-empty.
 */
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration, RandomSource } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { Filter } from '../../framework/scheduling.js';
import { ConfigError } from '../../errors.js';
import { paramsOf } from '../shared/params.js';
import { knownParameters } from '../shared/schema-params.js';

export const LORA_AFFINITY_FILTER = 'lora-affinity-filter';
export const DEFAULT_LORA_AFFINITY_THRESHOLD = 0.999;

export class LoraAffinityFilter implements Filter {
  readonly type = LORA_AFFINITY_FILTER;
  constructor(
    readonly name: string,
    readonly threshold: number,
    private readonly random: RandomSource,
  ) {}

  filter(_cs: unknown, request: InferenceRequest, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const model = request.targetModel;
    const affinity: Endpoint[] = [];
    const available: Endpoint[] = [];
    for (const e of endpoints) {
      const m = e.metrics;
      if (m.activeModels.has(model) || m.waitingModels.has(model)) affinity.push(e);
      else if (m.activeModels.size + m.waitingModels.size < m.maxActiveModels) available.push(e);
    }
    if (affinity.length > 0 && available.length > 0) return this.random.next() < this.threshold ? affinity : available;
    return affinity.length > 0 ? affinity : available;
  }
}

export const registration: PluginRegistration = {
  type: LORA_AFFINITY_FILTER,
  parameters: knownParameters('threshold'),
  factory: (name, parameters, handle) => {
    const v = paramsOf(parameters)['threshold'] ?? DEFAULT_LORA_AFFINITY_THRESHOLD;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError('parameters.threshold', `must be a number, got ${JSON.stringify(v)}`);
    return new LoraAffinityFilter(name, v, handle.services.random);
  },
};
