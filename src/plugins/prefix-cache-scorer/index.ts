import { z } from 'zod';
import type { Endpoint, EndpointLifecycleListener } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { DataConsumer, DataProducer, PreRequest } from '../../framework/request-control.js';
import type { Scorer, SchedulingResult } from '../../framework/scheduling.js';
import { param, parseParameters } from '../shared/params.js';
import {
  ApproxPrefixCacheProducer,
  PREFIX_CACHE_MATCH_KEY,
  matchKeyOf,
  parametersSchema as producerParametersSchema,
  prefixCacheConfig,
  type PrefixMatchInfo,
} from '../approx-prefix-cache-producer/index.js';

export const PREFIX_CACHE_SCORER = 'prefix-cache-scorer';

/**
 * Older Go EPPs put the index parameters on the scorer itself (v1.0: `hashBlockSize` in characters,
 * `maxPrefixBlocksToMatch`, `lruCapacityPerServer`; later also the producer's names). Any of them makes
 * the scorer keep its own index.
 */
export const parametersSchema = producerParametersSchema.extend({
  hashBlockSize: param.positiveInt(),
  // Which producer's match info to read (llm-d); when that producer wrote none, the shared key's.
  prefixMatchInfoProducerName: param.string(),
  matchLengthWeight: z.number({ error: 'must be a number in [0, 1]' }).min(0, { error: 'must be in [0, 1]' }).max(1, { error: 'must be in [0, 1]' }).nullish(),
  matchLengthScaleTokens: param.positiveInt(),
});

/** llm-d's scoring knobs: `w·min(1, matchedTokens/scale)² + (1−w)·matched/total`; w = 0 is the plain fraction. */
export interface MatchLengthOptions {
  readonly weight: number;
  readonly scaleTokens: number;
}

/** Fraction of the request's prefix blocks each endpoint holds (leading blocks only). */
export class PrefixCacheScorer implements Scorer, DataConsumer {
  readonly type = PREFIX_CACHE_SCORER;
  readonly category = 'affinity' as const;
  readonly consumes: readonly string[] = [PREFIX_CACHE_MATCH_KEY];
  readonly #length: MatchLengthOptions;
  readonly #producerKey: string | undefined;
  constructor(
    readonly name: string,
    length: MatchLengthOptions = { weight: 0, scaleTokens: 8192 },
    producerName?: string,
  ) {
    this.#length = length;
    this.#producerKey = producerName ? matchKeyOf(producerName) : undefined;
  }

  score(cycleState: CycleState, _req: InferenceRequest, endpoints: readonly Endpoint[]): Float64Array {
    const scores = new Float64Array(endpoints.length);
    const info = (this.#producerKey && cycleState.read<PrefixMatchInfo>(this.#producerKey)) || cycleState.read<PrefixMatchInfo>(PREFIX_CACHE_MATCH_KEY);
    if (!info || info.totalBlocks === 0) return scores;
    const value = (matched: number) => {
      const fraction = matched / info.totalBlocks;
      const w = this.#length.weight;
      if (w === 0) return fraction;
      const length = Math.min(1, (matched * (info.blockTokens ?? 16)) / this.#length.scaleTokens);
      return w * length * length + (1 - w) * fraction;
    };
    if (endpoints === info.candidates) {
      for (let i = 0; i < endpoints.length; i++) scores[i] = value(info.matched[i]!);
      return scores;
    }
    // A filter ran since the producer: line the match counts up by endpoint key.
    const byKey = new Map<string, number>();
    for (let i = 0; i < info.candidates.length; i++) byKey.set(info.candidates[i]!.key, info.matched[i]!);
    for (let i = 0; i < endpoints.length; i++) scores[i] = value(byKey.get(endpoints[i]!.key) ?? 0);
    return scores;
  }
}

/** The v1.0 form: a scorer that owns its index, so no separate producer is configured or injected. */
export class SelfProducingPrefixCacheScorer extends PrefixCacheScorer implements DataProducer, PreRequest, EndpointLifecycleListener {
  override readonly consumes: readonly string[] = [];
  readonly produces = [PREFIX_CACHE_MATCH_KEY] as const;
  constructor(
    name: string,
    readonly producer: ApproxPrefixCacheProducer,
  ) {
    super(name);
  }
  produce(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): void {
    this.producer.produce(request, candidates, cycleState);
  }
  preRequest(request: InferenceRequest, result: SchedulingResult, cycleState: CycleState): void {
    this.producer.preRequest(request, result, cycleState);
  }
  endpointRemoved(key: string): void {
    this.producer.endpointRemoved(key);
  }
}

export const registration: PluginRegistration = {
  type: PREFIX_CACHE_SCORER,
  parameters: parametersSchema,
  factory: (name, parameters) => {
    const { hashBlockSize, prefixMatchInfoProducerName: producer, matchLengthWeight, matchLengthScaleTokens, ...p } = parseParameters(parametersSchema, parameters);
    const length = { weight: matchLengthWeight ?? 0, scaleTokens: matchLengthScaleTokens ?? 8192 };
    if (hashBlockSize == null && Object.values(p).every((v) => v == null)) return new PrefixCacheScorer(name, length, producer ?? undefined);
    // v1.0's fixed block size in characters turns auto-tuning off unless the config asks for it.
    const autoTune = p.autoTune ?? (p.blockSizeTokens != null || p.maxPrefixTokensToMatch != null);
    const config = prefixCacheConfig({ ...p, autoTune, blockSize: p.blockSize ?? hashBlockSize });
    return new SelfProducingPrefixCacheScorer(name, new ApproxPrefixCacheProducer(name, config));
  },
};
