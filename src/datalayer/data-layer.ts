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
import { isMetricsMapper, isMetricsSource } from '../framework/datalayer.js';
import { ConfigError } from '../errors.js';
import { EndpointStore } from './endpoint-store.js';
import { MetricsCollector, type CollectorOptions, type ScrapeObserver } from './collector.js';
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
  close(): Promise<void>;
}


/** The collector settings the config asks for, or undefined when it asks for no metrics collection. */
function collectorSettings(config: LoadedConfig): Pick<CollectorOptions, 'scheme' | 'path' | 'nameFilter' | 'insecureSkipVerify' | 'mapping'> | undefined {
  const section = config.raw.dataLayer?.sources ? 'dataLayer' : 'data';
  const first = (config.raw.dataLayer?.sources ?? config.raw.data?.sources ?? [])[0];
  const injected = config.defaultMetricsSource;
  const sourceRef = first?.pluginRef ?? injected.source;
  if (sourceRef === undefined) return undefined;
  const source = pluginOf(config, sourceRef, first ? `${section}.sources[0].pluginRef` : '(default data source)', isMetricsSource, 'a metrics data source');
  const mapperRef = first?.extractors?.[0]?.pluginRef ?? injected.mapper;
  if (mapperRef === undefined) throw new ConfigError(`${section}.sources[0].extractors`, 'a metrics data source needs an extractor, and no default one is registered');
  const mapperPath = first?.extractors?.[0] ? `${section}.sources[0].extractors[0].pluginRef` : '(default extractor)';
  const mapping = pluginOf(config, mapperRef, mapperPath, isMetricsMapper, 'a metrics extractor');
  return { scheme: source.scheme, path: source.path, nameFilter: source.nameFilter ?? true, insecureSkipVerify: source.insecureSkipVerify, mapping };
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
  const sync = () => collector?.sync(store.snapshot().endpoints);
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
    close: async () => {
      await discovery?.stop();
      await collector?.close();
    },
  };
}
