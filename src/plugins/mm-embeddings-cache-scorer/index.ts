/**
 * mm-embeddings-cache-scorer (llm-d): the fraction of a request's distinct multimodal items (images, video,
 * audio) that `mm-embeddings-cache-producer` expects each candidate to have encoded recently, so requests
 * reusing media go where the embeddings are cached. 0 everywhere for requests without media.
 */
import type { Endpoint } from '../../framework/endpoint.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { DataConsumer } from '../../framework/request-control.js';
import type { Scorer } from '../../framework/scheduling.js';
import { MM_CACHE_MATCH_KEY, type MmCacheMatch } from '../mm-embeddings-cache-producer/index.js';

export const MM_EMBEDDINGS_CACHE_SCORER = 'mm-embeddings-cache-scorer';

export class MmEmbeddingsCacheScorer implements Scorer, DataConsumer {
  readonly type = MM_EMBEDDINGS_CACHE_SCORER;
  readonly category = 'affinity' as const;
  readonly consumes = [MM_CACHE_MATCH_KEY] as const;
  constructor(readonly name: string) {}

  score(cycleState: CycleState, _request: InferenceRequest, endpoints: readonly Endpoint[]): Float64Array {
    const scores = new Float64Array(endpoints.length);
    const m = cycleState.read<MmCacheMatch>(MM_CACHE_MATCH_KEY);
    if (!m || m.total === 0) return scores;
    const byKey = new Map(m.candidates.map((c, i) => [c.key, m.matched[i]!]));
    endpoints.forEach((e, i) => (scores[i] = (byKey.get(e.key) ?? 0) / m.total));
    return scores;
  }
}

export const registration: PluginRegistration = {
  type: MM_EMBEDDINGS_CACHE_SCORER,
  takesNoParameters: true,
  factory: (name) => new MmEmbeddingsCacheScorer(name),
};
