import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Scorer } from '../../framework/scheduling.js';

/**
 * Scores a load figure relative to the candidates: the least loaded gets 1, the most loaded 0, linear in
 * between; all equal → 1 for everyone (the Go EPP's queue and running-requests scorers).
 */
export function minMaxInverse(endpoints: readonly Endpoint[], load: (e: Endpoint) => number): Float64Array {
  const n = endpoints.length;
  const values = new Float64Array(n);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = load(endpoints[i]!);
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  for (let i = 0; i < n; i++) values[i] = range > 0 ? (max - values[i]!) / range : 1;
  return values;
}

/** A distribution scorer over one load figure, normalised with minMaxInverse. */
export class MinMaxLoadScorer implements Scorer {
  readonly category = 'distribution' as const;
  constructor(
    readonly type: string,
    readonly name: string,
    private readonly load: (e: Endpoint) => number,
  ) {}

  score(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): Float64Array {
    return minMaxInverse(endpoints, this.load);
  }
}

export function minMaxScorerRegistration(type: string, load: (e: Endpoint) => number): PluginRegistration {
  return { type, takesNoParameters: true, factory: (name) => new MinMaxLoadScorer(type, name, load) };
}
