import type { Endpoint, EndpointLifecycleListener } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import { TOKENIZED_PROMPT_KEY, type InferenceRequest } from '../../framework/request.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { DataProducer, PreRequest } from '../../framework/request-control.js';
import type { SchedulingResult } from '../../framework/scheduling.js';
import { z } from 'zod';
import { param, parseParameters } from '../shared/params.js';
import { chainHashes, xxh64 } from './xxh64.js';
import { PrefixIndex } from './prefix-index.js';

export const APPROX_PREFIX_CACHE_PRODUCER = 'approx-prefix-cache-producer';
/** Cycle-state key of the per-request match data (PrefixMatchInfo). */
export const PREFIX_CACHE_MATCH_KEY = 'prefix-cache-match-info';
/** One producer's own copy of its match info (llm-d keys it by producer name), for `prefixMatchInfoProducerName`. */
export const matchKeyOf = (producerName: string) => `${PREFIX_CACHE_MATCH_KEY}/${producerName}`;
/** Writes the shared key (what unnamed consumers read) and the producer's own (`matchKeyOf` its name). */
export function writeMatchInfo(cycleState: CycleState, ownKey: string, info: PrefixMatchInfo): void {
  cycleState.write(PREFIX_CACHE_MATCH_KEY, info);
  cycleState.write(ownKey, info);
}
/** The Go EPP's estimate. */
export const CHARS_PER_TOKEN = 4;
/**
 * Ceilings on what autoTune takes from a pod's own metrics: a pod reporting garbage (or 2^31 KV blocks)
 * must not size the index. 1 Mi blocks is 16 Mi tokens at 16 per block, beyond any single server today,
 * and costs at most ~36 MB of index for that pod; block sizes above 4,096 tokens are not real either.
 */
export const MAX_AUTO_TUNED_BLOCKS = 1024 * 1024;
export const MAX_AUTO_TUNED_BLOCK_TOKENS = 4096;
/** A profile with this name also learns the request's blocks (its pod ran the prefill). */
export const PREFILL_PROFILE = 'prefill';

export interface PrefixMatchInfo {
  /** Block hashes of the request, in order (53-bit keys). */
  readonly hashes: Float64Array;
  readonly totalBlocks: number;
  /** The candidates the match was computed for; `matched[i]` belongs to `candidates[i]`. */
  readonly candidates: readonly Endpoint[];
  /** Leading blocks each candidate holds. */
  readonly matched: Int32Array;
  /** Tokens per block (the block's bytes / CHARS_PER_TOKEN), so a match converts to cached tokens. */
  readonly blockTokens?: number;
}

export interface PrefixCacheConfig {
  readonly autoTune: boolean;
  readonly blockSizeTokens: number;
  readonly maxPrefixBlocksToMatch: number;
  readonly maxPrefixTokensToMatch: number;
  readonly lruCapacityPerServer: number;
}

export const DEFAULT_PREFIX_CACHE_CONFIG: PrefixCacheConfig = {
  autoTune: true,
  blockSizeTokens: 16,
  maxPrefixBlocksToMatch: 256,
  maxPrefixTokensToMatch: 0,
  lruCapacityPerServer: 31250,
};

/** The parameters this plugin knows (`blockSize`, in characters, is the Go EPP's deprecated spelling). */
export const parametersSchema = z.object({
  autoTune: param.bool(),
  blockSizeTokens: param.positiveInt(),
  blockSize: param.positiveInt(),
  maxPrefixBlocksToMatch: param.positiveInt(),
  maxPrefixTokensToMatch: param.nonNegativeInt(),
  lruCapacityPerServer: param.positiveInt(),
});

export function prefixCacheConfig(parameters: unknown): PrefixCacheConfig {
  const p = parseParameters(parametersSchema, parameters);
  const d = DEFAULT_PREFIX_CACHE_CONFIG;
  return {
    autoTune: p.autoTune ?? d.autoTune,
    blockSizeTokens: p.blockSizeTokens ?? (p.blockSize ? Math.max(1, Math.round(p.blockSize / CHARS_PER_TOKEN)) : d.blockSizeTokens),
    maxPrefixBlocksToMatch: p.maxPrefixBlocksToMatch ?? d.maxPrefixBlocksToMatch,
    maxPrefixTokensToMatch: p.maxPrefixTokensToMatch ?? d.maxPrefixTokensToMatch,
    lruCapacityPerServer: p.lruCapacityPerServer ?? d.lruCapacityPerServer,
  };
}

const encoder = new TextEncoder();

/** Hash seeds by model and salt: a handful of distinct values, hashed once each (shared by every prefix producer). */
const seeds = new Map<string, ReturnType<typeof xxh64>>();
function seedOf(text: string): ReturnType<typeof xxh64> {
  let seed = seeds.get(text);
  if (seed === undefined) {
    if (seeds.size >= 4096) seeds.clear(); // salts may be per user: a bound, not an LRU
    seed = xxh64(encoder.encode(text));
    seeds.set(text, seed);
  }
  return seed;
}

/**
 * What the blocks are cut from: the real token ids when a tokenizer produced them (four bytes a token, so
 * a block of N tokens is N·4 bytes, exactly the pods' own blocks), else the prompt text at ~4 bytes a
 * token (the Go EPP's estimate).
 */
function prefixBytes(request: InferenceRequest): Uint8Array {
  const t = request.tokenizedPrompt;
  if (t && t.exact && t.prompts.length === 1) {
    const ids = t.prompts[0]!.tokenIds;
    return new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength);
  }
  return request.body.prefixText;
}

/** The request's prefix cut into `blockBytes` blocks (at most `maxBlocks`), chain-hashed from a seed of model and cache salt. */
export function prefixBlockHashes(request: InferenceRequest, blockBytes: number, maxBlocks: number): Float64Array {
  return chainHashes(prefixBytes(request), blockBytes, maxBlocks, seedOf(request.targetModel + request.body.cacheSalt));
}

/**
 * Hashes the request's prefix in blocks, finds how many leading blocks each candidate holds, and after the
 * pick teaches the index that the chosen pods now hold them — synchronously, before the next request.
 */
export class ApproxPrefixCacheProducer implements DataProducer, PreRequest, EndpointLifecycleListener {
  readonly type: string = APPROX_PREFIX_CACHE_PRODUCER;
  readonly produces = [PREFIX_CACHE_MATCH_KEY] as const;
  readonly consumes = [] as const;
  /** Real token ids, when a token producer is configured (it then runs first). */
  readonly uses = [TOKENIZED_PROMPT_KEY] as const;
  readonly index = new PrefixIndex();
  #matchKey: string | undefined;

  constructor(
    readonly name: string,
    readonly config: PrefixCacheConfig,
  ) {}

  /** Block size in bytes: the pods' own block size when autoTune and known (first candidate that reports it). */
  blockSizeBytes(candidates: readonly Endpoint[]): number {
    if (this.config.autoTune) {
      for (const e of candidates) {
        const tokens = e.metrics.cacheBlockSize;
        if (tokens > 0) return Math.floor(Math.min(tokens, MAX_AUTO_TUNED_BLOCK_TOKENS)) * CHARS_PER_TOKEN || this.config.blockSizeTokens * CHARS_PER_TOKEN;
      }
    }
    return this.config.blockSizeTokens * CHARS_PER_TOKEN;
  }

  maxBlocks(blockBytes: number): number {
    const { maxPrefixTokensToMatch, maxPrefixBlocksToMatch } = this.config;
    if (maxPrefixTokensToMatch > 0) return Math.max(1, Math.floor((maxPrefixTokensToMatch * CHARS_PER_TOKEN) / blockBytes));
    return maxPrefixBlocksToMatch;
  }

  hash(request: InferenceRequest, blockBytes: number): Float64Array {
    return prefixBlockHashes(request, blockBytes, this.maxBlocks(blockBytes));
  }

  /**
   * Index ids → candidate positions, so the match walk does array lookups only. The table is kept while
   * the candidate list (the snapshot's array, the same object between updates) and the index's ids stay.
   */
  #positions: { candidates: readonly Endpoint[]; version: number; table: Int32Array } | undefined;
  #positionsOf(candidates: readonly Endpoint[]): Int32Array {
    const cached = this.#positions;
    if (cached && cached.candidates === candidates && cached.version === this.index.idsVersion) return cached.table;
    const table = new Int32Array(this.index.idLimit).fill(-1);
    for (let i = 0; i < candidates.length; i++) {
      const id = this.index.idOf(candidates[i]!.key);
      if (id !== undefined) table[id] = i;
    }
    this.#positions = { candidates, version: this.index.idsVersion, table };
    return table;
  }

  produce(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): void {
    const blockBytes = this.blockSizeBytes(candidates);
    const hashes = this.hash(request, blockBytes);
    const matched = new Int32Array(candidates.length);
    if (hashes.length > 0 && this.index.size > 0) this.index.countMatches(hashes, this.#positionsOf(candidates), matched);
    const info: PrefixMatchInfo = { hashes, totalBlocks: hashes.length, candidates, matched, blockTokens: blockBytes / CHARS_PER_TOKEN };
    writeMatchInfo(cycleState, (this.#matchKey ??= matchKeyOf(this.name)), info);
  }

  preRequest(_request: InferenceRequest, result: SchedulingResult, cycleState: CycleState): void {
    // Its own blocks: another prefix producer may have written the shared key since (another block size).
    const info = cycleState.read<PrefixMatchInfo>((this.#matchKey ??= matchKeyOf(this.name))) ?? cycleState.read<PrefixMatchInfo>(PREFIX_CACHE_MATCH_KEY);
    if (!info || info.totalBlocks === 0) return;
    const primary = result.profileResults.get(result.primaryProfileName)?.targetEndpoints[0]?.endpoint;
    if (primary) this.#learn(primary, info.hashes);
    if (result.primaryProfileName !== PREFILL_PROFILE) {
      const prefill = result.profileResults.get(PREFILL_PROFILE)?.targetEndpoints[0]?.endpoint;
      if (prefill) this.#learn(prefill, info.hashes);
    }
  }

  endpointRemoved(key: string): void {
    this.index.removeEndpoint(key);
  }

  #learn(endpoint: Endpoint, hashes: Float64Array): void {
    this.index.add(endpoint.key, hashes, this.capacityFor(endpoint));
  }

  /** The pod's LRU capacity: its KV block count when autoTune and reported (clamped), else lruCapacityPerServer. */
  capacityFor(endpoint: Endpoint): number {
    const blocks = Math.floor(endpoint.metrics.cacheNumBlocks);
    if (!this.config.autoTune || !(blocks > 0)) return this.config.lruCapacityPerServer;
    return Math.min(blocks, Math.max(MAX_AUTO_TUNED_BLOCKS, this.config.lruCapacityPerServer));
  }
}

export const registration: PluginRegistration = {
  type: APPROX_PREFIX_CACHE_PRODUCER,
  parameters: parametersSchema,
  factory: (name, parameters) => new ApproxPrefixCacheProducer(name, prefixCacheConfig(parameters)),
};
