/** least-kv-cache-filter (GIE v0.5): keeps endpoints whose KV-cache use is within (max − min) / n of the smallest. */
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Filter } from '../../framework/scheduling.js';

export const LEAST_KV_CACHE_FILTER = 'least-kv-cache-filter';

export class LeastKvCacheFilter implements Filter {
  readonly type = LEAST_KV_CACHE_FILTER;
  constructor(readonly name: string) {}

  filter(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    if (endpoints.length === 0) return endpoints;
    const kv = endpoints.map((e) => e.metrics.kvCacheUsage);
    const min = Math.min(...kv);
    const max = Math.max(...kv);
    const limit = min + (max - min) / endpoints.length;
    return endpoints.filter((_, i) => kv[i]! <= limit);
  }
}

export const registration: PluginRegistration = { type: LEAST_KV_CACHE_FILTER, takesNoParameters: true, factory: (name) => new LeastKvCacheFilter(name) };
