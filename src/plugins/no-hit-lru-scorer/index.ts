/**
 * no-hit-lru-scorer (llm-d): spreads cold requests (no candidate holds any of the prompt's prefix blocks)
 * over the pods least recently given one: never-used pods first, then from least to most recently used,
 * scored 1 − rank / (n − 1). Warm requests score 0.5 everywhere (prefix scoring decides them).
 * After a cold request's pick, the primary pod and the `prefill` profile's pod become most recent.
 */
import type { CycleState } from '../../framework/cycle-state.js';
import type { Endpoint, EndpointLifecycleListener } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { DataConsumer, PreRequest } from '../../framework/request-control.js';
import type { Scorer, SchedulingResult } from '../../framework/scheduling.js';
import { paramsOf } from '../shared/params.js';
import { PREFIX_CACHE_MATCH_KEY, type PrefixMatchInfo } from '../approx-prefix-cache-producer/index.js';
import { DEFAULT_PREFILL_PROFILE } from '../shared/disagg.js';
import { knownParameters } from '../shared/schema-params.js';

export const NO_HIT_LRU_SCORER = 'no-hit-lru-scorer';
export const DEFAULT_LRU_SIZE = 1024;

export class NoHitLruScorer implements Scorer, PreRequest, DataConsumer, EndpointLifecycleListener {
  readonly type = NO_HIT_LRU_SCORER;
  readonly category = 'distribution' as const;
  readonly consumes = [PREFIX_CACHE_MATCH_KEY] as const;
  /** Endpoint keys, least recently used first (Map insertion order). */
  readonly #lru = new Map<string, true>();
  readonly #coldKey: string;

  constructor(
    readonly name: string,
    readonly lruSize: number,
  ) {
    this.#coldKey = `${name}/cold`;
  }

  #isCold(cs: CycleState, endpoints: readonly Endpoint[]): boolean {
    const info = cs.read<PrefixMatchInfo>(PREFIX_CACHE_MATCH_KEY);
    if (!info || info.totalBlocks === 0) return true;
    const wanted = endpoints === info.candidates ? undefined : new Set(endpoints.map((e) => e.key));
    for (let i = 0; i < info.candidates.length; i++) {
      if (info.matched[i]! > 0 && (!wanted || wanted.has(info.candidates[i]!.key))) return false;
    }
    return true;
  }

  score(cs: CycleState, _req: InferenceRequest, endpoints: readonly Endpoint[]): Float64Array {
    const n = endpoints.length;
    const scores = new Float64Array(n);
    const cold = this.#isCold(cs, endpoints);
    cs.write(this.#coldKey, cold);
    if (!cold) return scores.fill(0.5);
    if (n === 1) return scores.fill(1);
    const position = new Map<string, number>();
    let i = 0;
    for (const key of this.#lru.keys()) position.set(key, i++);
    const neverUsed: number[] = [];
    const used: number[] = [];
    for (let j = 0; j < n; j++) (position.has(endpoints[j]!.key) ? used : neverUsed).push(j);
    neverUsed.forEach((j, rank) => (scores[j] = 1 - rank / (n - 1)));
    for (const j of used) scores[j] = Math.max(0, 1 - (neverUsed.length + position.get(endpoints[j]!.key)!) / (n - 1));
    return scores;
  }

  preRequest(_req: InferenceRequest, result: SchedulingResult, cs: CycleState): void {
    if (cs.read<boolean>(this.#coldKey) !== true) return;
    for (const profile of [result.primaryProfileName, DEFAULT_PREFILL_PROFILE]) {
      const e = result.profileResults.get(profile)?.targetEndpoints[0]?.endpoint;
      if (e) this.#touch(e.key);
    }
  }

  #touch(key: string): void {
    this.#lru.delete(key);
    this.#lru.set(key, true);
    if (this.#lru.size > this.lruSize) this.#lru.delete(this.#lru.keys().next().value as string);
  }

  endpointRemoved(key: string): void {
    this.#lru.delete(key);
  }

  /** Keys, least recently used first. */
  order(): string[] {
    return [...this.#lru.keys()];
  }
}

export const registration: PluginRegistration = {
  type: NO_HIT_LRU_SCORER,
  parameters: knownParameters('prefixPluginType', 'prefixPluginName', 'lruSize', 'prefixMatchInfoProducerName'),
  factory: (name, parameters) => {
    const size = paramsOf(parameters)['lruSize'];
    // As llm-d: a missing or non-positive lruSize means the default.
    return new NoHitLruScorer(name, typeof size === 'number' && Number.isInteger(size) && size > 0 ? size : DEFAULT_LRU_SIZE);
  },
};
