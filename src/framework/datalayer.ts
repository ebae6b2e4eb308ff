/**
 * Data-layer contracts: where a pod's metrics page is (a metrics source) and which series of it hold the
 * scheduler's figures (a metrics mapper, per serving engine). The data layer's collector reads pages through
 * these; the plugins that implement them (`metrics-data-source`, `core-metrics-extractor`) know nothing of
 * the collector. Defaults come through the registry (`Registry.registerDefaultMetricsSource`).
 */
import type { Plugin } from './plugin.js';

/** A series selector: `name` or `name{label="value",…}`; a series matches when every listed label has its value. */
export interface MetricSelector {
  readonly name: string;
  readonly labels: ReadonlyArray<readonly [string, string]>;
}

/** Where one engine publishes each figure; later entries of a list are fallbacks. */
export interface EngineMapping {
  readonly waitingQueue: readonly MetricSelector[];
  readonly running: readonly MetricSelector[];
  /** KV use as a 0..1 fraction. */
  readonly kvUsage: readonly MetricSelector[];
  readonly loraInfo?: MetricSelector;
  readonly cacheInfo?: { readonly selector: MetricSelector; readonly blockSizeLabel: string; readonly numBlocksLabel: string };
  readonly blockSize?: MetricSelector;
  readonly numBlocks?: MetricSelector;
}

/** Engine mappings by engine name, the pod label that names a pod's engine, and the engine of unlabelled pods. */
export interface MetricsMapping {
  readonly engines: ReadonlyMap<string, EngineMapping>;
  readonly engineLabelKey: string;
  readonly defaultEngine: string;
}

/** A plugin that says where each pod's metrics page is: `<scheme>://<address>:<port><path>`. */
export interface MetricsSource extends Plugin {
  readonly scheme: 'http' | 'https';
  readonly path: string;
  readonly insecureSkipVerify: boolean;
  /** Ask the server for the mapped series only (`?name[]=`); true unless the source says otherwise. */
  readonly nameFilter?: boolean;
}

/** A plugin that says which series of a page hold which figure. */
export interface MetricsMapper extends Plugin, MetricsMapping {}

export function isMetricsSource(p: Plugin): p is MetricsSource {
  const s = p as Partial<MetricsSource>;
  return (s.scheme === 'http' || s.scheme === 'https') && typeof s.path === 'string' && typeof s.insecureSkipVerify === 'boolean';
}

export function isMetricsMapper(p: Plugin): p is MetricsMapper {
  const m = p as Partial<MetricsMapper>;
  return m.engines instanceof Map && typeof m.engineLabelKey === 'string' && typeof m.defaultEngine === 'string';
}
