/**
 * Assembles the data layer from a loaded config: the discovery plugin named by `dataLayer.discovery`, the
 * endpoint store, and the collector configured by the `dataLayer.sources` data source and extractor (the
 * defaults, `metrics-data-source` + `core-metrics-extractor`, when none is given and `injectDefaults` is not
 * false, as the Go EPP injects them).
 */
import type { Endpoint, EndpointMetadata } from '../framework/endpoint.js';
import { endpointKey, isEndpointDiscovery, type DiscoverySink, type EndpointDiscovery } from '../framework/discovery.js';
import type { LoadedConfig } from '../config/instantiate.js';
import { pluginOf } from '../config/plugin-ref.js';
import type { LoadLedger } from '../framework/endpoint.js';
import { isAttributeExtractor, isAttributeSource, isMetricsMapper, isMetricsSource, type AttributeExtractor, type AttributeSource } from '../framework/datalayer.js';
import { ConfigError } from '../errors.js';
import { EndpointStore } from './endpoint-store.js';
import { DEFAULT_COLLECTOR_OPTIONS, MetricsCollector, type CollectorOptions, type ScrapeObserver } from './collector.js';
import { AttributeCollector } from './attribute-collector.js';
import { isStale, staleReason, unroutable } from './staleness.js';

export interface DataLayerOptions {
  readonly tracker: LoadLedger;
  readonly refreshMs: number;
  readonly stalenessMs: number;
  readonly now?: () => number;
  readonly log?: { warn(message: string): void; info(message: string): void };
  /** Discovery to use when the config names none (the composition root's default, e.g. from --pool-name). */
  readonly defaultDiscovery?: EndpointDiscovery;
  /** Scrape outcomes and durations per endpoint (the scrape metrics). */
  readonly scrapeObserver?: ScrapeObserver;
}

export interface DataLayer {
  readonly store: EndpointStore;
  readonly collector: MetricsCollector | undefined;
  readonly discovery: EndpointDiscovery | undefined;
  /** The sink that keeps store and collector in step; discovery writes here, so may a caller. */
  readonly sink: DiscoverySink;
  /** Why `endpoint` is stale now, or undefined. */
  staleReason(endpoint: Endpoint): string | undefined;
  /** Why the endpoint's last scrape failed, or undefined. */
  scrapeProblem(key: string): string | undefined;
  /** Its last scrape failed (any kind) and its metrics are stale: leave it out of the candidates. */
  unroutable(endpoint: Endpoint): boolean;
  /** `unroutable` at one reading of the clock, for checking a whole candidate list. */
  unroutableNow(): (endpoint: Endpoint) => boolean;
  close(): Promise<void>;
}


type SourceEntry = NonNullable<NonNullable<LoadedConfig['raw']['dataLayer']>['sources']>[number];

/** The configured data sources with their config paths (`dataLayer.sources` or the older `data.sources`). */
function sourceEntries(config: LoadedConfig): { section: string; entries: readonly SourceEntry[] } {
  const section = config.raw.dataLayer?.sources ? 'dataLayer' : 'data';
  return { section, entries: config.raw.dataLayer?.sources ?? config.raw.data?.sources ?? [] };
}

/**
 * The collector settings the config asks for, or undefined when it asks for no metrics collection. The
 * metrics source is the configured one, wherever it is in the list, or the injected default.
 */
function collectorSettings(config: LoadedConfig): Pick<CollectorOptions, 'scheme' | 'path' | 'nameFilter' | 'insecureSkipVerify' | 'mapping'> | undefined {
  const { section, entries } = sourceEntries(config);
  const index = config.metricsSourceIndex;
  const entry = entries[index];
  const injected = config.defaultMetricsSource;
  const sourceRef = entry?.pluginRef ?? injected.source;
  if (sourceRef === undefined) return undefined;
  const at = `${section}.sources[${index}]`;
  const source = pluginOf(config, sourceRef, entry ? `${at}.pluginRef` : '(default data source)', isMetricsSource, 'a metrics data source');
  const mapperRef = entry?.extractors?.[0]?.pluginRef ?? injected.mapper;
  if (mapperRef === undefined) throw new ConfigError(`${at}.extractors`, 'a metrics data source needs an extractor, and no default one is registered');
  const mapperPath = entry?.extractors?.[0] ? `${at}.extractors[0].pluginRef` : '(default extractor)';
  const mapping = pluginOf(config, mapperRef, mapperPath, isMetricsMapper, 'a metrics extractor');
  return { scheme: source.scheme, path: source.path, nameFilter: source.nameFilter ?? true, insecureSkipVerify: source.insecureSkipVerify, mapping };
}

/** Each configured attribute source (a GPU exporter, say) with its extractors. */
function attributeSources(config: LoadedConfig): { source: AttributeSource; extractors: AttributeExtractor[] }[] {
  const { section, entries } = sourceEntries(config);
  return entries.flatMap((entry, i) => {
    const source = config.plugins.get(entry.pluginRef)!;
    if (!isAttributeSource(source)) return [];
    const at = `${section}.sources[${i}]`;
    if (!entry.extractors?.length) throw new ConfigError(`${at}.extractors`, `data source "${source.name}" (${source.type}) needs an extractor to turn its page into attributes`);
    const extractors = entry.extractors.map((x, j) => pluginOf(config, x.pluginRef, `${at}.extractors[${j}].pluginRef`, isAttributeExtractor, `an extractor for ${source.type}`));
    return [{ source, extractors }];
  });
}

export async function startDataLayer(config: LoadedConfig, options: DataLayerOptions): Promise<DataLayer> {
  const now = options.now ?? Date.now;
  const store = new EndpointStore(options.tracker, config.endpointListeners);
  const settings = collectorSettings(config);
  const collector = settings
    ? new MetricsCollector(store, {
        ...settings,
        intervalMs: options.refreshMs,
        now,
        ...(options.scrapeObserver ? { observer: options.scrapeObserver } : {}),
        onStateChange: (key, problem) => (problem ? options.log?.warn(`metrics scrape of ${key} failing: ${problem}`) : options.log?.info(`metrics scrape of ${key} healthy again`)),
      })
    : undefined;
  const attributeCollectors = attributeSources(config).map(
    ({ source, extractors }) =>
      new AttributeCollector(store, {
        source,
        extractors,
        baseIntervalMs: options.refreshMs,
        timeoutMs: DEFAULT_COLLECTOR_OPTIONS.timeoutMs,
        maxPageBytes: DEFAULT_COLLECTOR_OPTIONS.maxPageBytes,
        stalenessMs: options.stalenessMs,
        now,
        onStateChange: (key, problem) => (problem ? options.log?.warn(`${source.name} read of ${key} failing: ${problem}`) : options.log?.info(`${source.name} read of ${key} healthy again`)),
      }),
  );
  const sync = () => {
    const endpoints = store.snapshot().endpoints;
    collector?.sync(endpoints);
    for (const c of attributeCollectors) c.sync(endpoints);
  };
  // Pods coming and going are worth a line at the default level: they change where traffic can go.
  const known = new Map<string, string>();
  const sink: DiscoverySink = {
    upsert: (e: EndpointMetadata) => {
      const key = endpointKey(e);
      const where = `${e.address}:${e.port}`;
      if (known.get(key) !== where) options.log?.info(`endpoint ${known.has(key) ? 'changed' : 'added'}: ${key} at ${where}`);
      known.set(key, where);
      store.upsert(e);
      sync();
    },
    delete: (key: string) => {
      if (known.delete(key)) options.log?.info(`endpoint removed: ${key}`);
      store.delete(key);
      sync();
    },
    ready: () => store.ready(),
  };
  const ref = config.raw.dataLayer?.discovery?.pluginRef;
  const discovery = ref ? pluginOf(config, ref, 'dataLayer.discovery.pluginRef', isEndpointDiscovery, 'an endpoint discovery plugin') : options.defaultDiscovery;
  if (discovery) await discovery.start(sink);
  return {
    store,
    collector,
    discovery,
    sink,
    staleReason: (e) => staleReason(e, now(), options.stalenessMs, collector?.problem(e.key)),
    scrapeProblem: (key) => collector?.problem(key),
    // Fresh metrics first: the common case costs one clock read, no lookup.
    unroutable: (e) => isStale(e, now(), options.stalenessMs) && unroutable(e, collector?.lastOutcome(e.key), now(), options.stalenessMs),
    unroutableNow: () => {
      const at = now();
      return (e) => isStale(e, at, options.stalenessMs) && unroutable(e, collector?.lastOutcome(e.key), at, options.stalenessMs);
    },
    close: async () => {
      await discovery?.stop();
      await collector?.close();
      for (const c of attributeCollectors) await c.close();
    },
  };
}
