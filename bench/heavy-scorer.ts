/**
 * A pool-capable scorer for the engine benchmarks: burns `spinUs` of CPU per call (standing for a scorer
 * whose cost grows with the prompt or the pool), then scores by KV-cache headroom. Out-of-tree style: its
 * registration names its module so worker threads can build it.
 */
import type { Endpoint } from '../src/framework/endpoint.js';
import type { PluginRegistration } from '../src/framework/plugin.js';
import type { Scorer } from '../src/framework/scheduling.js';

export class HeavyScorer implements Scorer {
  readonly type = 'bench-heavy-scorer';
  readonly category = 'distribution' as const;
  readonly poolCapable = true;
  constructor(
    readonly name: string,
    readonly spinUs: number,
  ) {}

  score(_cs: unknown, _r: unknown, endpoints: readonly Endpoint[]): Float64Array {
    const end = performance.now() + this.spinUs / 1000;
    while (performance.now() < end);
    const out = new Float64Array(endpoints.length);
    for (let i = 0; i < endpoints.length; i++) out[i] = 1 - endpoints[i]!.metrics.kvCacheUsage;
    return out;
  }
}

export const registration: PluginRegistration = {
  type: 'bench-heavy-scorer',
  module: import.meta.url,
  factory: (name, parameters) => new HeavyScorer(name, Number((parameters as { spinUs?: number } | undefined)?.spinUs ?? 500)),
};
