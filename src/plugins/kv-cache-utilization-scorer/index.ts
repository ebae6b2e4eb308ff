import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration, PluginFactory } from '../../framework/plugin.js';
import type { Scorer } from '../../framework/scheduling.js';

export const KV_CACHE_UTILIZATION_SCORER = 'kv-cache-utilization-scorer';
/** The v0.x name; old configs still use it. */
export const KV_CACHE_SCORER_LEGACY = 'kv-cache-scorer';

export class KvCacheUtilizationScorer implements Scorer {
  readonly category = 'distribution' as const;
  /** Reads scraped metrics only. */
  readonly poolCapable = true;
  constructor(
    readonly name: string,
    readonly type: string = KV_CACHE_UTILIZATION_SCORER,
  ) {}

  score(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): Float64Array {
    const scores = new Float64Array(endpoints.length);
    for (let i = 0; i < endpoints.length; i++) {
      const kv = endpoints[i]!.metrics.kvCacheUsage;
      scores[i] = Number.isFinite(kv) ? 1 - kv : 0; // a NaN metric must not look like free cache
    }
    return scores;
  }
}

const factoryFor =
  (type: string): PluginFactory =>
  (name) =>
    new KvCacheUtilizationScorer(name, type);

export const registration: PluginRegistration = { type: KV_CACHE_UTILIZATION_SCORER, takesNoParameters: true, factory: factoryFor(KV_CACHE_UTILIZATION_SCORER) };
export const legacyRegistration: PluginRegistration = { type: KV_CACHE_SCORER_LEGACY, takesNoParameters: true, factory: factoryFor(KV_CACHE_SCORER_LEGACY) };
