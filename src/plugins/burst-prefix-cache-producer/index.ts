/**
 * burst-prefix-cache-producer (llm-d): requests arriving within one window are placed together, so a burst
 * of requests sharing a prompt (the samples of an RL rollout group, say) lands on one replica (or a few,
 * `maxPerReplica` each) and its prefix is prefilled once instead of on every cold replica. Each request
 * waits for its window to close, then gets a full prefix match on its assigned replica and none elsewhere
 * (`prefix-cache-scorer` turns that into scores); a request sharing nothing gets no affinity at all.
 */
import { z } from 'zod';
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import { TOKENIZED_PROMPT_KEY, type InferenceRequest } from '../../framework/request.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { DataProducer } from '../../framework/request-control.js';
import { ConfigError } from '../../errors.js';
import { param, parseParameters } from '../shared/params.js';
import { CHARS_PER_TOKEN, PREFIX_CACHE_MATCH_KEY, prefixBlockHashes, writeMatchInfo, matchKeyOf, type PrefixMatchInfo } from '../approx-prefix-cache-producer/index.js';
import { assignBurst, type BurstEntry } from './assign.js';

export const BURST_PREFIX_CACHE_PRODUCER = 'burst-prefix-cache-producer';
const DEFAULT_MAX_PREFIX_BLOCKS = 2048;
const MAX_WINDOW_MS = 10_000;

const intOrUnlimited = (what: string) =>
  z.number({ error: `must be -1 (${what}) or a positive integer` }).int({ error: `must be -1 (${what}) or a positive integer` }).refine((n) => n === -1 || n >= 1, { error: `must be -1 (${what}) or a positive integer` }).nullish();

export const parametersSchema = z.object({
  windowDurationMs: z.number({ error: `must be an integer in 1..${MAX_WINDOW_MS}` }).int({ error: `must be an integer in 1..${MAX_WINDOW_MS}` }).min(1, { error: `must be in 1..${MAX_WINDOW_MS}` }).max(MAX_WINDOW_MS, { error: `must be in 1..${MAX_WINDOW_MS}` }).nullish(),
  maxPerReplica: intOrUnlimited('unlimited'),
  blockSizeTokens: param.positiveInt(),
  maxPrefixTokensToMatch: param.nonNegativeInt(),
  minColocateBlocks: param.nonNegativeInt(),
  maxBatchSize: intOrUnlimited('unlimited'),
  balanceBy: z.enum(['requests', 'tokens'], { error: 'must be "requests" or "tokens"' }).nullish(),
});

export interface BurstConfig {
  readonly windowMs: number;
  readonly maxPerReplica: number;
  readonly blockSizeTokens: number;
  readonly maxBlocks: number;
  readonly minColocateBlocks: number;
  readonly maxBatchSize: number;
  readonly byTokens: boolean;
}

export function burstConfig(parameters: unknown): BurstConfig {
  const p = parseParameters(parametersSchema, parameters);
  const blockSizeTokens = p.blockSizeTokens ?? 64;
  const maxTokens = p.maxPrefixTokensToMatch ?? 0;
  if (maxTokens > 0 && maxTokens < blockSizeTokens) {
    throw new ConfigError('parameters.maxPrefixTokensToMatch', `must be 0 or at least blockSizeTokens (${blockSizeTokens}), got ${maxTokens}: a smaller value leaves no whole block to match`);
  }
  return {
    windowMs: p.windowDurationMs ?? 100,
    maxPerReplica: p.maxPerReplica ?? -1,
    blockSizeTokens,
    maxBlocks: maxTokens > 0 ? Math.floor(maxTokens / blockSizeTokens) : DEFAULT_MAX_PREFIX_BLOCKS,
    minColocateBlocks: p.minColocateBlocks ?? 0,
    maxBatchSize: p.maxBatchSize ?? 1000,
    byTokens: p.balanceBy === 'tokens',
  };
}

interface Waiting extends BurstEntry {
  readonly done: () => void;
}

export class BurstPrefixCacheProducer implements DataProducer {
  readonly type = BURST_PREFIX_CACHE_PRODUCER;
  readonly produces = [PREFIX_CACHE_MATCH_KEY] as const;
  readonly consumes = [] as const;
  /** Real token ids, when a token producer is configured (it then runs first). */
  readonly uses = [TOKENIZED_PROMPT_KEY] as const;
  #window: Waiting[] = [];
  #timer: NodeJS.Timeout | undefined;
  #matchKey: string | undefined;
  /** Requests that found their window full (they got no affinity). */
  overflowed = 0;

  constructor(
    readonly name: string,
    readonly config: BurstConfig,
  ) {}

  hash(request: InferenceRequest): Float64Array {
    return prefixBlockHashes(request, this.config.blockSizeTokens * CHARS_PER_TOKEN, this.config.maxBlocks);
  }

  produce(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): Promise<void> | void {
    const hashes = this.hash(request);
    if (hashes.length === 0) return; // shorter than a block: it could share nothing, so it need not wait
    if (this.config.maxBatchSize !== -1 && this.#window.length >= this.config.maxBatchSize) {
      this.overflowed++; // llm-d fails the producer, which leaves the request without match info: the same
      return;
    }
    return new Promise<void>((resolve) => {
      const entry: Waiting = {
        hashes,
        candidates,
        done: () => {
          const matched = new Int32Array(candidates.length);
          const key = entry.assigned?.key;
          const at = key === undefined ? -1 : candidates.findIndex((c) => c.key === key);
          if (at >= 0) matched[at] = hashes.length;
          const info: PrefixMatchInfo = { hashes, totalBlocks: hashes.length, candidates, matched, blockTokens: this.config.blockSizeTokens };
          writeMatchInfo(cycleState, (this.#matchKey ??= matchKeyOf(this.name)), info);
          resolve();
        },
      };
      this.#window.push(entry);
      this.#timer ??= setTimeout(() => this.#seal(), this.config.windowMs);
    });
  }

  /** Closes the window: places its requests together and lets each go on. */
  #seal(): void {
    const window = this.#window;
    this.#window = [];
    this.#timer = undefined;
    assignBurst(window, { maxPerReplica: this.config.maxPerReplica, minColocateBlocks: this.config.minColocateBlocks, byTokens: this.config.byTokens });
    for (const w of window) w.done();
  }

  /** Shutdown: the open window closes now, so no request waits on a timer that is gone. */
  close(): void {
    clearTimeout(this.#timer);
    if (this.#window.length > 0) this.#seal();
  }
}

export const registration: PluginRegistration = {
  type: BURST_PREFIX_CACHE_PRODUCER,
  parameters: parametersSchema,
  factory: (name, parameters) => new BurstPrefixCacheProducer(name, burstConfig(parameters)),
};
