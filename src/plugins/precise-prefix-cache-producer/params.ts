/**
 * llm-d's `precise-prefix-cache-producer` parameters, with its defaults (reference/precise-prefix.md §1).
 * Settings this EPP has no backend for (Redis, cost-aware memory) are accepted and warned about; the
 * in-memory index is used.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { parseDuration } from '../../config/duration.js';
import { parseParameters } from '../shared/params.js';

const int = (what: string) => z.number({ error: `must be an integer` }).int({ error: `${what} must be an integer` }).nullish();

export const parametersSchema = z.object({
  tokenProcessorConfig: z
    .object({ blockSizeTokens: int('blockSizeTokens'), blockSize: int('blockSize'), hashSeed: z.string({ error: 'must be a string' }).nullish(), hashAlgorithm: z.string({ error: 'must be a string' }).nullish() })
    .nullish(),
  indexerConfig: z
    .object({
      kvBlockIndexConfig: z
        .object({
          inMemoryConfig: z.object({ size: int('size'), podCacheSize: int('podCacheSize') }).nullish(),
          costAwareMemoryConfig: z.unknown().optional(),
          redisConfig: z.unknown().optional(),
          enableMetrics: z.boolean({ error: 'must be true or false' }).nullish(),
          metricsLoggingInterval: z.unknown().optional(),
        })
        .nullish(),
      kvCacheBackendConfigs: z.array(z.object({ name: z.string({ error: 'must be a string' }), weight: z.number({ error: 'must be a number' }) }), { error: 'must be a list of {name, weight}' }).nullish(),
      tokenizersPoolConfig: z.unknown().optional(),
    })
    .nullish(),
  kvEventsConfig: z
    .object({
      zmqEndpoint: z.string({ error: 'must be a string' }).nullish(),
      topicFilter: z.string({ error: 'must be a string' }).nullish(),
      concurrency: int('concurrency'),
      engineType: z.string({ error: 'must be a string' }).nullish(),
      discoverPods: z.boolean({ error: 'must be true or false' }).nullish(),
      podDiscoveryConfig: z
        .object({ podLabelSelector: z.string().nullish(), podNamespace: z.string().nullish(), socketPort: int('socketPort'), replaySocketPort: int('replaySocketPort') })
        .nullish(),
    })
    .nullish(),
  speculativeIndexing: z.boolean({ error: 'must be true or false' }).nullish(),
  speculativeTTL: z.string({ error: 'must be a duration such as "2s"' }).nullish(),
});

export interface PreciseSettings {
  readonly blockSize: number;
  readonly hashSeed: string;
  readonly size: number;
  readonly podCacheSize: number;
  readonly tierWeights: Readonly<Record<string, number>>;
  /** Central mode when set: one bound SUB. */
  readonly zmqEndpoint: string;
  readonly topicFilter: string;
  readonly engineType: 'vllm' | 'sglang';
  readonly discoverPods: boolean;
  readonly socketPort: number;
  readonly replaySocketPort: number;
  readonly speculativeIndexing: boolean;
  readonly speculativeTtlMs: number;
}

export function preciseSettings(parameters: unknown, warn: (m: string) => void): PreciseSettings {
  const p = parseParameters(parametersSchema, parameters);
  const tp = p.tokenProcessorConfig ?? {};
  const blockSize = tp.blockSizeTokens || tp.blockSize || 16;
  if (blockSize <= 0) throw new ConfigError('parameters.tokenProcessorConfig.blockSizeTokens', `must be positive, got ${blockSize}`);
  const algorithm = tp.hashAlgorithm || 'cbor-fnv';
  if (algorithm === 'xxh64') throw new ConfigError('parameters.tokenProcessorConfig.hashAlgorithm', 'xxh64 is not supported by this EPP yet; use cbor-fnv (the default)');
  if (algorithm !== 'cbor-fnv') throw new ConfigError('parameters.tokenProcessorConfig.hashAlgorithm', `unknown hash algorithm ${JSON.stringify(algorithm)} (known: cbor-fnv, xxh64)`);
  const ic = p.indexerConfig ?? {};
  if (ic.tokenizersPoolConfig !== undefined) throw new ConfigError('parameters.indexerConfig.tokenizersPoolConfig', 'is not supported: tokenize with a token-producer plugin (as llm-d requires)');
  const kbi = ic.kvBlockIndexConfig ?? {};
  if (kbi.redisConfig !== undefined || kbi.costAwareMemoryConfig !== undefined) warn('indexerConfig.kvBlockIndexConfig: Redis and cost-aware backends are not available here; the in-memory index is used');
  const tierWeights: Record<string, number> = { gpu: 1, cpu: 0.8 };
  if (ic.kvCacheBackendConfigs) {
    for (const k of Object.keys(tierWeights)) delete tierWeights[k];
    for (const b of ic.kvCacheBackendConfigs) tierWeights[b.name.toLowerCase()] = b.weight;
  }
  const ev = p.kvEventsConfig ?? {};
  const engineType = ev.engineType || 'vllm';
  if (engineType !== 'vllm' && engineType !== 'sglang') throw new ConfigError('parameters.kvEventsConfig.engineType', `unknown engine type ${JSON.stringify(engineType)} (known: vllm, sglang)`);
  const pd = ev.podDiscoveryConfig ?? {};
  let speculativeTtlMs = 2000;
  if (p.speculativeTTL) {
    const ms = parseDuration(p.speculativeTTL, 'parameters.speculativeTTL');
    if (ms > 0) speculativeTtlMs = ms;
  }
  return {
    blockSize,
    hashSeed: tp.hashSeed ?? '',
    size: kbi.inMemoryConfig?.size || 100_000_000,
    podCacheSize: kbi.inMemoryConfig?.podCacheSize || 10,
    tierWeights,
    zmqEndpoint: ev.zmqEndpoint ?? '',
    topicFilter: ev.topicFilter ?? 'kv@',
    engineType,
    discoverPods: ev.discoverPods ?? true,
    socketPort: pd.socketPort || 5557,
    replaySocketPort: pd.replaySocketPort || 0,
    speculativeIndexing: p.speculativeIndexing ?? false,
    speculativeTtlMs,
  };
}
