import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { Scorer } from '../../framework/scheduling.js';

export const LORA_AFFINITY_SCORER = 'lora-affinity-scorer';

/** Adapter loaded → 1; a free adapter slot → 0.8; adapter already queued to load → 0.6; else 0. */
export function loraAffinity(e: Endpoint, model: string): number {
  const m = e.metrics;
  if (m.activeModels.has(model)) return 1;
  if (m.activeModels.size + m.waitingModels.size < m.maxActiveModels) return 0.8;
  if (m.waitingModels.has(model)) return 0.6;
  return 0;
}

export class LoraAffinityScorer implements Scorer {
  readonly type = LORA_AFFINITY_SCORER;
  readonly category = 'affinity' as const;
  /** Reads scraped metrics and the request's target model only. */
  readonly poolCapable = true;
  constructor(readonly name: string) {}

  score(_cs: unknown, request: InferenceRequest, endpoints: readonly Endpoint[]): Float64Array {
    const scores = new Float64Array(endpoints.length);
    for (let i = 0; i < endpoints.length; i++) scores[i] = loraAffinity(endpoints[i]!, request.targetModel);
    return scores;
  }
}

export const registration: PluginRegistration = {
  type: LORA_AFFINITY_SCORER,
  takesNoParameters: true,
  factory: (name) => new LoraAffinityScorer(name),
};
