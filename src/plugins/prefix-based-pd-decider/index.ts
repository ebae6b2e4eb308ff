/**
 * prefix-based-pd-decider (llm-d): disaggregate when the part of the prompt the decode pod does not
 * already hold is long enough to be worth a separate prefill: uncached tokens ≥ `nonCachedTokens`.
 */
import type { CycleState } from '../../framework/cycle-state.js';
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import { tokenCount, type InferenceRequest } from '../../framework/request.js';
import type { DataConsumer } from '../../framework/request-control.js';
import { nonNegativeInt, paramsOf } from '../shared/params.js';
import type { DisaggDecider } from '../shared/disagg.js';
import { CHARS_PER_TOKEN, PREFIX_CACHE_MATCH_KEY, type PrefixMatchInfo } from '../approx-prefix-cache-producer/index.js';
import { knownParameters } from '../shared/schema-params.js';

export const PREFIX_BASED_PD_DECIDER = 'prefix-based-pd-decider';

export interface PrefixDeciderConfig {
  /** Uncached prompt tokens from which prefill runs on its own pod; 0 never disaggregates. */
  readonly nonCachedTokens: number;
  /** Prompts shorter than this (tokens) never disaggregate; 0 = no gate. */
  readonly promptTokens: number;
}

/** The prompt in tokens: the tokenizer's count when there is one, else the prefix text's bytes / 4. */
export function promptLength(request: InferenceRequest): number {
  const t = request.tokenizedPrompt;
  if (t?.exact) return tokenCount(t);
  return Math.floor(request.body.prefixText.length / CHARS_PER_TOKEN);
}

/** Tokens of the prompt the endpoint is believed to hold (its leading matched blocks). */
export function cachedTokens(cs: CycleState, endpoint: Endpoint): number {
  const info = cs.read<PrefixMatchInfo>(PREFIX_CACHE_MATCH_KEY);
  if (!info || info.totalBlocks === 0) return 0;
  const i = info.candidates.indexOf(endpoint);
  const at = i >= 0 ? i : info.candidates.findIndex((c) => c.key === endpoint.key);
  if (at < 0) return 0;
  return info.matched[at]! * (info.blockTokens ?? 16);
}

export class PrefixBasedPdDecider implements DisaggDecider, DataConsumer {
  readonly type = PREFIX_BASED_PD_DECIDER;
  readonly consumes = [PREFIX_CACHE_MATCH_KEY] as const;
  constructor(
    readonly name: string,
    readonly config: PrefixDeciderConfig,
  ) {}

  disaggregate(request: InferenceRequest, decode: Endpoint | undefined, cs: CycleState): boolean {
    const { nonCachedTokens, promptTokens } = this.config;
    if (nonCachedTokens === 0 || !decode) return false;
    const input = promptLength(request);
    if (promptTokens > 0 && input < promptTokens) return false;
    if (input < nonCachedTokens) return false;
    return input - cachedTokens(cs, decode) >= nonCachedTokens;
  }
}

export const registration: PluginRegistration = {
  type: PREFIX_BASED_PD_DECIDER,
  parameters: knownParameters('nonCachedTokens', 'promptTokens'),
  factory: (name, parameters, handle) => {
    const p = paramsOf(parameters);
    const config = { nonCachedTokens: nonNegativeInt(p, 'nonCachedTokens', 0), promptTokens: nonNegativeInt(p, 'promptTokens', 0) };
    if (config.nonCachedTokens === 0) handle.warn('nonCachedTokens is 0: prefill never runs on its own pod');
    return new PrefixBasedPdDecider(name, config);
  },
};
