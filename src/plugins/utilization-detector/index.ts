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
import { ConfigError } from '../../errors.js';
import { parseDuration } from '../../config/duration.js';
import { paramsOf, positiveInt, type Params } from '../shared/params.js';

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
      sum += Math.max(e.metrics.waitingQueueSize / queueDepthThreshold, e.metrics.kvCacheUsage / kvCacheUtilThreshold);
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

function kvThreshold(p: Params): number {
  const v = p['kvCacheUtilThreshold'];
  if (v === undefined || v === null) return DEFAULT_KV_CACHE_UTIL_THRESHOLD;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 1) {
    throw new ConfigError('parameters.kvCacheUtilThreshold', `must be a number in (0, 1], got ${JSON.stringify(v)}`);
  }
  return v;
}

function headroom(p: Params): number {
  const v = p['headroom'];
  if (v === undefined || v === null) return DEFAULT_HEADROOM;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigError('parameters.headroom', `must be a non-negative number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function staleness(p: Params): number {
  const v = p['metricsStalenessThreshold'];
  const path = 'parameters.metricsStalenessThreshold';
  if (v === undefined || v === null) return parseDuration(DEFAULT_METRICS_STALENESS_THRESHOLD, path);
  if (typeof v !== 'string') {
    throw new ConfigError(path, `must be a duration string such as "200ms", got ${JSON.stringify(v)}`);
  }
  return parseDuration(v, path);
}

/** Reads and validates the parameters; throws a ConfigError naming the bad one. */
export function parseUtilizationDetectorConfig(parameters: unknown): UtilizationDetectorConfig {
  const p = paramsOf(parameters);
  return {
    queueDepthThreshold: positiveInt(p, 'queueDepthThreshold', DEFAULT_QUEUE_DEPTH_THRESHOLD),
    kvCacheUtilThreshold: kvThreshold(p),
    metricsStalenessThresholdMs: staleness(p),
    headroom: headroom(p),
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
  factory: (name, parameters, handle) =>
    new UtilizationDetector(name, parseUtilizationDetectorConfig(parameters), handle.services.now),
};
