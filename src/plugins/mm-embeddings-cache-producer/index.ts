/**
 * mm-embeddings-cache-producer (llm-d): which pods have recently encoded a request's images, videos or
 * audio. The items are the multimodal hashes a token producer found (`multiModalFeatures`; repeats within
 * a request count once); each pod keeps an LRU of the hashes routed to it (at PreRequest, to the primary
 * profile's targets), sized from the model servers' encoder cache (`cacheSizeInMBPerServer` / 2 MiB a
 * item, llm-d's assumption). For every candidate the producer writes how many of the request's items that
 * pod holds, which `mm-embeddings-cache-scorer` turns into a score.
 */
import { z } from 'zod';
import type { Endpoint, EndpointLifecycleListener } from '../../framework/endpoint.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import { TOKENIZED_PROMPT_KEY, type InferenceRequest } from '../../framework/request.js';
import type { DataProducer, PreRequest } from '../../framework/request-control.js';
import type { SchedulingResult } from '../../framework/scheduling.js';
import { parseParameters } from '../shared/params.js';

export const MM_EMBEDDINGS_CACHE_PRODUCER = 'mm-embeddings-cache-producer';
/** Cycle-state key of the match (llm-d's data key name). */
export const MM_CACHE_MATCH_KEY = 'MultiModalEncoderCacheMatchInfo';
const DEFAULT_CACHE_MB = 4096;
const MB_PER_ITEM = 2;

export interface MmCacheMatch {
  /** Distinct multimodal items in the request. */
  readonly total: number;
  readonly candidates: readonly Endpoint[];
  /** Items each candidate holds, in `candidates` order. */
  readonly matched: Int32Array;
}

export const parametersSchema = z.object({
  cacheSizeInMBPerServer: z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).nullish(),
});

/** The distinct multimodal hashes of a request, from its tokenized prompts. */
export function multimodalItems(request: InferenceRequest): string[] {
  const seen = new Set<string>();
  for (const p of request.tokenizedPrompt?.prompts ?? []) for (const f of p.multiModalFeatures ?? []) if (f.hash) seen.add(f.hash);
  return [...seen];
}

export class MmEmbeddingsCacheProducer implements DataProducer, PreRequest, EndpointLifecycleListener {
  readonly type = MM_EMBEDDINGS_CACHE_PRODUCER;
  readonly produces = [MM_CACHE_MATCH_KEY] as const;
  readonly consumes = [TOKENIZED_PROMPT_KEY] as const;
  /** Endpoint key → its recent items (a Map's insertion order is the LRU order). */
  readonly #pods = new Map<string, Map<string, true>>();
  /** Request id → its items, from Produce to PreRequest. */
  readonly #pending = new Map<string, string[]>();

  constructor(
    readonly name: string,
    readonly capacityPerPod: number,
  ) {}

  produce(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): void {
    const items = multimodalItems(request);
    if (items.length === 0) return;
    const matched = new Int32Array(candidates.length);
    candidates.forEach((c, i) => {
      const cache = this.#pods.get(c.key);
      if (cache) for (const h of items) if (cache.has(h)) matched[i]!++;
    });
    cycleState.write(MM_CACHE_MATCH_KEY, { total: items.length, candidates, matched } satisfies MmCacheMatch);
    this.#pending.set(request.requestId, items);
    if (this.#pending.size > 10_000) this.#pending.delete(this.#pending.keys().next().value!);
  }

  preRequest(request: InferenceRequest, result: SchedulingResult): void {
    const items = this.#pending.get(request.requestId);
    if (!items) return;
    this.#pending.delete(request.requestId);
    for (const t of result.profileResults.get(result.primaryProfileName)?.targetEndpoints ?? []) {
      let cache = this.#pods.get(t.endpoint.key);
      if (!cache) this.#pods.set(t.endpoint.key, (cache = new Map()));
      for (const h of items) {
        cache.delete(h);
        cache.set(h, true);
      }
      while (cache.size > this.capacityPerPod) cache.delete(cache.keys().next().value!);
    }
  }

  endpointRemoved(key: string): void {
    this.#pods.delete(key);
  }

  /** Items remembered for `endpointKey` (tests, status). */
  itemsOf(endpointKey: string): number {
    return this.#pods.get(endpointKey)?.size ?? 0;
  }
}

export const registration: PluginRegistration = {
  type: MM_EMBEDDINGS_CACHE_PRODUCER,
  parameters: parametersSchema,
  factory: (name, parameters) => {
    const mb = parseParameters(parametersSchema, parameters).cacheSizeInMBPerServer;
    return new MmEmbeddingsCacheProducer(name, Math.max(1, Math.floor((mb && mb > 0 ? mb : DEFAULT_CACHE_MB) / MB_PER_ITEM)));
  },
};
