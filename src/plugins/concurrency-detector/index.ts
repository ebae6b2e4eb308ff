/**
 * concurrency-detector (llm-d): saturation from the requests (or tokens) this EPP has in flight on each
 * endpoint, against a per-endpoint limit. Usable as the `saturationDetector` and as a profile filter.
 * - requests: Σ in-flight requests / (n · maxConcurrency)
 * - tokens:   Σ in-flight tokens / (n · maxTokenConcurrency)
 * - hybrid:   mean over endpoints of max(requests / maxConcurrency, tokens / maxTokenConcurrency)
 * As a filter it keeps endpoints under the limit × (1 + headroom) (both limits in hybrid mode).
 */
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { SaturationDetector } from '../../framework/saturation.js';
import type { Filter } from '../../framework/scheduling.js';
import { ConfigError } from '../../errors.js';
import { paramsOf } from '../shared/params.js';
import { knownParameters } from '../shared/schema-params.js';

export const CONCURRENCY_DETECTOR = 'concurrency-detector';

export type ConcurrencyMode = 'requests' | 'tokens' | 'hybrid';

export interface ConcurrencyConfig {
  readonly mode: ConcurrencyMode;
  readonly maxConcurrency: number;
  readonly maxTokenConcurrency: number;
  readonly headroom: number;
}

export const DEFAULT_CONCURRENCY_CONFIG: ConcurrencyConfig = { mode: 'requests', maxConcurrency: 100, maxTokenConcurrency: 1_000_000, headroom: 0 };

export class ConcurrencyDetector implements SaturationDetector, Filter {
  readonly type = CONCURRENCY_DETECTOR;
  constructor(
    readonly name: string,
    readonly config: ConcurrencyConfig,
  ) {}

  saturation(candidates: readonly Endpoint[]): number {
    const n = candidates.length;
    if (n === 0) return 1;
    const { mode, maxConcurrency, maxTokenConcurrency } = this.config;
    let requests = 0;
    let tokens = 0;
    let hybrid = 0;
    for (const e of candidates) {
      requests += e.load.inFlightRequests;
      tokens += e.load.inFlightTokens;
      hybrid += Math.max(e.load.inFlightRequests / maxConcurrency, e.load.inFlightTokens / maxTokenConcurrency);
    }
    if (mode === 'tokens') return tokens / (n * maxTokenConcurrency);
    if (mode === 'hybrid') return hybrid / n;
    return requests / (n * maxConcurrency);
  }

  filter(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const { mode, maxConcurrency, maxTokenConcurrency, headroom } = this.config;
    const reqLimit = Math.trunc(maxConcurrency * (1 + headroom));
    const tokLimit = Math.trunc(maxTokenConcurrency * (1 + headroom));
    return endpoints.filter((e) => {
      const r = e.load.inFlightRequests < reqLimit;
      const t = e.load.inFlightTokens < tokLimit;
      return mode === 'tokens' ? t : mode === 'hybrid' ? r && t : r;
    });
  }
}

export function parseConcurrencyConfig(parameters: unknown): ConcurrencyConfig {
  const p = paramsOf(parameters);
  const d = DEFAULT_CONCURRENCY_CONFIG;
  const mode = p['concurrencyMode'] ?? d.mode;
  if (mode !== 'requests' && mode !== 'tokens' && mode !== 'hybrid') {
    throw new ConfigError('parameters.concurrencyMode', `must be "requests", "tokens" or "hybrid", got ${JSON.stringify(mode)}`);
  }
  const positive = (k: string, fallback: number) => {
    const v = p[k];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ConfigError(`parameters.${k}`, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const headroom = p['headroom'] ?? d.headroom;
  if (typeof headroom !== 'number' || !Number.isFinite(headroom) || headroom < 0) throw new ConfigError('parameters.headroom', `must be a non-negative number, got ${JSON.stringify(headroom)}`);
  return { mode, maxConcurrency: positive('maxConcurrency', d.maxConcurrency), maxTokenConcurrency: positive('maxTokenConcurrency', d.maxTokenConcurrency), headroom };
}

export const registration: PluginRegistration = {
  type: CONCURRENCY_DETECTOR,
  parameters: knownParameters('maxConcurrency', 'headroom', 'concurrencyMode', 'maxTokenConcurrency', 'inFlightLoadProducerName'),
  factory: (name, parameters, handle) => {
    const config = parseConcurrencyConfig(parameters);
    if (config.headroom > 1) handle.warn(`headroom ${config.headroom} is unusually high: it is a fraction (0.2 = 20 %), not a percentage`);
    return new ConcurrencyDetector(name, config);
  },
};
