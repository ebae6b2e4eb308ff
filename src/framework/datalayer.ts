/**
 * Data-layer contracts: where a pod's metrics page is (a metrics source) and which series of it hold the
 * scheduler's figures (a metrics mapper, per serving engine). The data layer's collector reads pages through
 * these; the plugins that implement them (`metrics-data-source`, `core-metrics-extractor`) know nothing of
 * the collector. Defaults come through the registry (`Registry.registerDefaultMetricsSource`).
 */
import type { Plugin } from './plugin.js';
import type { EndpointMetadata } from './endpoint.js';

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
  /** Further series published as numeric endpoint attributes (llm-d's `customMetrics`), keyed as `attributeKey`. */
  readonly custom?: readonly { readonly key: string; readonly selector: MetricSelector }[];
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

/**
 * A data source with nothing to collect: it exists so configs that list it load (llm-d's
 * endpoint-notification-source; here the endpoint store tells every lifecycle listener itself).
 */
export interface NotificationSource extends Plugin {
  readonly notificationsOnly: true;
}

export function isNotificationSource(p: Plugin): p is NotificationSource {
  return (p as Partial<NotificationSource>).notificationsOnly === true;
}

/** One sample of a Prometheus page, as an attribute extractor reads it. */
export interface PageSample {
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  readonly value: number;
}

/**
 * A data source besides the metrics page: another Prometheus page per endpoint (a GPU exporter, say), on
 * its own port, read on its own interval, whose samples go to the attribute extractors wired to it.
 */
export interface AttributeSource extends Plugin {
  readonly attributePage: {
    readonly scheme: 'http' | 'https';
    readonly path: string;
    readonly port: number;
    readonly insecureSkipVerify: boolean;
    /** Read the page at the endpoint's node address (a DaemonSet exporter) instead of its own. */
    readonly useNodeAddress: boolean;
    /** Asked-for period; the data layer rounds it to a multiple of its refresh interval. Undefined: every tick. */
    readonly intervalMs: number | undefined;
  };
}

/** Turns an attribute source's page into endpoint attributes. */
export interface AttributeExtractor extends Plugin {
  /** The metric names it reads (only those lines of a page are parsed). */
  readonly metricNames: readonly string[];
  /** The attribute keys it writes (see `attributeKey`). */
  readonly produces: readonly string[];
  /** The endpoint's attributes from the page's samples of `metricNames`; throws when the page lacks them. */
  extractAttributes(samples: readonly PageSample[], endpoint: EndpointMetadata): ReadonlyMap<string, unknown>;
}

/** The key of an attribute in `Endpoint.attributes`: llm-d's (attribute, producer) pair as `attribute/producer`. */
export const attributeKey = (attribute: string, producer: string): string => (producer === '' ? attribute : `${attribute}/${producer}`);

export function isAttributeSource(p: Plugin): p is AttributeSource {
  const page = (p as Partial<AttributeSource>).attributePage;
  return typeof page === 'object' && page !== null && typeof page.port === 'number';
}

export function isAttributeExtractor(p: Plugin): p is AttributeExtractor {
  const x = p as Partial<AttributeExtractor>;
  return typeof x.extractAttributes === 'function' && Array.isArray(x.metricNames);
}
