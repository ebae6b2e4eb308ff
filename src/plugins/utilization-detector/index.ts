/**
 * utilization-detector: the Go EPP's default saturation detector, also usable as a scheduling filter.
 * Saturation is the mean over candidates of max(queue / queueDepthThreshold, kv / kvCacheUtilThreshold),
 * a stale endpoint counting 1. As a filter it drops stale endpoints and those over the thresholds (scaled by
 * 1 + headroom), keeping all when it would drop all.
 */
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Filter } from '../../framework/scheduling.js';
import type { SaturationDetector } from '../../framework/saturation.js';
import { z } from 'zod';
import { parseDuration } from '../../config/duration.js';
import { param, parseParameters } from '../shared/params.js';

export const UTILIZATION_DETECTOR = 'utilization-detector';
export const DEFAULT_QUEUE_DEPTH_THRESHOLD = 5;
export const DEFAULT_KV_CACHE_UTIL_THRESHOLD = 0.8;
export const DEFAULT_METRICS_STALENESS_THRESHOLD = '200ms';
export const DEFAULT_HEADROOM = 0;

export interface UtilizationDetectorConfig {
  readonly queueDepthThreshold: number;
  readonly kvCacheUtilThreshold: number;
  /** Milliseconds. */
  readonly metricsStalenessThresholdMs: number;
  readonly headroom: number;
}

export class UtilizationDetector implements SaturationDetector, Filter {
  readonly type = UTILIZATION_DETECTOR;
  constructor(
    readonly name: string,
    readonly config: UtilizationDetectorConfig,
    private readonly now: () => number,
  ) {}

  /** Metrics never scraped, or older than the staleness threshold. */
  isStale(endpoint: Endpoint, now: number = this.now()): boolean {
    const t = endpoint.metrics.updateTime;
    return t === 0 || now - t > this.config.metricsStalenessThresholdMs;
  }

  saturation(candidates: readonly Endpoint[]): number {
    if (candidates.length === 0) return 1;
    const now = this.now();
    const { queueDepthThreshold, kvCacheUtilThreshold } = this.config;
    let sum = 0;
    for (const e of candidates) {
      if (this.isStale(e, now)) {
        sum += 1;
        continue;
      }
      // Requests this EPP dispatched since the scrape count as waiting: flow control then fills freed
      // capacity in one burst without overshooting it before the next scrape shows the new load.
      const waiting = e.metrics.waitingQueueSize + e.load.unscrapedDispatches;
      sum += Math.max(waiting / queueDepthThreshold, e.metrics.kvCacheUsage / kvCacheUtilThreshold);
    }
    return sum / candidates.length;
  }

  /** True when the candidate set's saturation is 1 or more. */
  isSaturated(candidates: readonly Endpoint[]): boolean {
    return this.saturation(candidates) >= 1;
  }

  filter(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const now = this.now();
    const scale = 1 + this.config.headroom;
    const queueLimit = this.config.queueDepthThreshold * scale;
    const kvLimit = this.config.kvCacheUtilThreshold * scale;
    const kept = endpoints.filter(
      (e) => !this.isStale(e, now) && e.metrics.waitingQueueSize < queueLimit && e.metrics.kvCacheUsage < kvLimit,
    );
    return kept.length === 0 ? endpoints : kept;
  }
}

const KV = 'must be a number in (0, 1]';
const HEADROOM = 'must be a non-negative number';

/** The parameters this plugin knows. */
export const parametersSchema = z.object({
  queueDepthThreshold: param.positiveInt(),
  kvCacheUtilThreshold: z.number({ error: KV }).gt(0, { error: KV }).lte(1, { error: KV }).nullish(),
  metricsStalenessThreshold: z.string({ error: 'must be a duration string such as "200ms"' }).nullish(),
  headroom: z.number({ error: HEADROOM }).nonnegative({ error: HEADROOM }).nullish(),
});

/** Reads and validates the parameters; throws a ConfigError naming the bad one. */
export function parseUtilizationDetectorConfig(parameters: unknown): UtilizationDetectorConfig {
  const p = parseParameters(parametersSchema, parameters);
  return {
    queueDepthThreshold: p.queueDepthThreshold ?? DEFAULT_QUEUE_DEPTH_THRESHOLD,
    kvCacheUtilThreshold: p.kvCacheUtilThreshold ?? DEFAULT_KV_CACHE_UTIL_THRESHOLD,
    metricsStalenessThresholdMs: parseDuration(p.metricsStalenessThreshold ?? DEFAULT_METRICS_STALENESS_THRESHOLD, 'parameters.metricsStalenessThreshold'),
    headroom: p.headroom ?? DEFAULT_HEADROOM,
  };
}

export interface LegacySaturationDetectorSection {
  queueDepthThreshold?: number;
  kvCacheUtilThreshold?: number;
  metricsStalenessThreshold?: string;
}

/**
 * The parameters the config's top-level `saturationDetector` section means for the default detector (the
 * older config style puts the thresholds there). Absent or zero values (Go's unset) are left out so the
 * defaults apply; anything else is passed on for the factory to validate.
 */
export function detectorOverrides(section: LegacySaturationDetectorSection | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!section) return out;
  if (section.queueDepthThreshold !== undefined && section.queueDepthThreshold !== 0) {
    out['queueDepthThreshold'] = section.queueDepthThreshold;
  }
  if (section.kvCacheUtilThreshold !== undefined && section.kvCacheUtilThreshold !== 0) {
    out['kvCacheUtilThreshold'] = section.kvCacheUtilThreshold;
  }
  const stale = section.metricsStalenessThreshold;
  if (stale !== undefined && stale.trim() !== '' && stale.trim() !== '0') {
    out['metricsStalenessThreshold'] = stale;
  }
  return out;
}

export const registration: PluginRegistration = {
  type: UTILIZATION_DETECTOR,
  parameters: parametersSchema,
  factory: (name, parameters, handle) =>
    new UtilizationDetector(name, parseUtilizationDetectorConfig(parameters), handle.services.now),
};
