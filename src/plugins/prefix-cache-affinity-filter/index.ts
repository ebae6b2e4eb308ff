/**
 * prefix-cache-affinity-filter (llm-d): "sticky until saturated". Keeps the endpoints holding at least
 * `affinityThreshold` of the prompt's prefix blocks; when none does, keeps all. With probability
 * `explorationProbability` it keeps all (so other pods get to warm up). When the best sticky endpoint's
 * estimated time to first token exceeds the best other's by more than `maxTTFTPenaltyMs`, it keeps all:
 * affinity is not worth that wait. TTFT is estimated as in-flight prompt tokens / `peakPrefillThroughput`.
 */
import type { CycleState } from '../../framework/cycle-state.js';
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration, RandomSource } from '../../framework/plugin.js';
import type { DataConsumer } from '../../framework/request-control.js';
import type { Filter } from '../../framework/scheduling.js';
import { ConfigError } from '../../errors.js';
import { paramsOf, type Params } from '../shared/params.js';
import { PREFIX_CACHE_MATCH_KEY, type PrefixMatchInfo } from '../approx-prefix-cache-producer/index.js';
import { inFlightLoadOf } from '../inflight-load-producer/index.js';
import { knownParameters } from '../shared/schema-params.js';

export const PREFIX_CACHE_AFFINITY_FILTER = 'prefix-cache-affinity-filter';

export interface AffinityFilterConfig {
  readonly affinityThreshold: number;
  readonly explorationProbability: number;
  readonly maxTTFTPenaltyMs: number;
  /** Prompt tokens per second a pod prefills at its peak. */
  readonly peakPrefillThroughput: number;
}

export const DEFAULT_AFFINITY_FILTER_CONFIG: AffinityFilterConfig = {
  affinityThreshold: 0.8,
  explorationProbability: 0,
  maxTTFTPenaltyMs: 18000,
  peakPrefillThroughput: 15928,
};

/** Each endpoint's prefix score (matched / total blocks), by key. */
export function prefixScores(cs: CycleState, endpoints: readonly Endpoint[]): Float64Array {
  const out = new Float64Array(endpoints.length);
  const info = cs.read<PrefixMatchInfo>(PREFIX_CACHE_MATCH_KEY);
  if (!info || info.totalBlocks === 0) return out;
  if (endpoints === info.candidates) {
    for (let i = 0; i < endpoints.length; i++) out[i] = info.matched[i]! / info.totalBlocks;
    return out;
  }
  const byKey = new Map<string, number>();
  for (let i = 0; i < info.candidates.length; i++) byKey.set(info.candidates[i]!.key, info.matched[i]!);
  for (let i = 0; i < endpoints.length; i++) out[i] = (byKey.get(endpoints[i]!.key) ?? 0) / info.totalBlocks;
  return out;
}

export class PrefixCacheAffinityFilter implements Filter, DataConsumer {
  readonly type = PREFIX_CACHE_AFFINITY_FILTER;
  readonly consumes = [PREFIX_CACHE_MATCH_KEY] as const;
  constructor(
    readonly name: string,
    readonly config: AffinityFilterConfig,
    private readonly random: RandomSource,
  ) {}

  filter(cs: CycleState, _req: unknown, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const { affinityThreshold, explorationProbability, maxTTFTPenaltyMs, peakPrefillThroughput } = this.config;
    if (endpoints.length <= 1 || affinityThreshold <= 0) return endpoints;
    if (explorationProbability > 0 && this.random.next() < explorationProbability) return endpoints;
    const scores = prefixScores(cs, endpoints);
    const sticky: Endpoint[] = [];
    const others: Endpoint[] = [];
    for (let i = 0; i < endpoints.length; i++) (scores[i]! >= affinityThreshold ? sticky : others).push(endpoints[i]!);
    if (sticky.length === 0) return endpoints;
    if (maxTTFTPenaltyMs > 0 && others.length > 0) {
      const load = inFlightLoadOf(cs);
      const best = (set: Endpoint[]) => Math.min(...set.map((e) => (load(e).tokens / peakPrefillThroughput) * 1000));
      if (best(sticky) - best(others) > maxTTFTPenaltyMs) return endpoints;
    }
    return sticky;
  }
}

function num(p: Params, key: string, fallback: number, ok: (v: number) => boolean, want: string): number {
  const v = p[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new ConfigError(`parameters.${key}`, `must be ${want}, got ${JSON.stringify(v)}`);
  return v;
}

export function parseAffinityFilterConfig(parameters: unknown, warn: (m: string) => void): AffinityFilterConfig {
  const p = paramsOf(parameters);
  const d = DEFAULT_AFFINITY_FILTER_CONFIG;
  const source = p['ttftSource'] ?? 'prefillThroughput';
  if (source !== 'prefillThroughput' && source !== 'latencyPredictor') {
    throw new ConfigError('parameters.ttftSource', `must be "latencyPredictor" or "prefillThroughput", got ${JSON.stringify(source)}`);
  }
  if (source === 'latencyPredictor') warn('ttftSource "latencyPredictor" needs a latency predictor this EPP does not have; estimating TTFT from prefill throughput');
  const config = {
    affinityThreshold: num(p, 'affinityThreshold', d.affinityThreshold, (v) => v <= 1, 'a number ≤ 1'),
    explorationProbability: num(p, 'explorationProbability', d.explorationProbability, (v) => v >= 0 && v <= 1, 'a number in [0, 1]'),
    maxTTFTPenaltyMs: num(p, 'maxTTFTPenaltyMs', d.maxTTFTPenaltyMs, (v) => v >= 0, 'a number ≥ 0'),
    peakPrefillThroughput: num(p, 'peakPrefillThroughput', d.peakPrefillThroughput, (v) => v >= 0, 'a number ≥ 0'),
  };
  if (config.maxTTFTPenaltyMs > 0 && config.peakPrefillThroughput === 0) {
    throw new ConfigError('parameters.peakPrefillThroughput', 'must be > 0 when maxTTFTPenaltyMs is set');
  }
  return config;
}

export const registration: PluginRegistration = {
  type: PREFIX_CACHE_AFFINITY_FILTER,
  parameters: knownParameters('affinityThreshold', 'explorationProbability', 'maxTTFTPenaltyMs', 'ttftSource', 'peakPrefillThroughput', 'prefixMatchInfoProducerName', 'latencyPredictionInfoProducerName', 'inFlightLoadProducerName'),
  factory: (name, parameters, handle) => new PrefixCacheAffinityFilter(name, parseAffinityFilterConfig(parameters, handle.warn), handle.services.random),
};
