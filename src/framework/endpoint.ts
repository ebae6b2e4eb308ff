/**
 * What the scheduler knows about one model-server endpoint, as plain data (it survives structured clone and
 * msgpack). Metadata and metrics are immutable for a snapshot epoch; `load` is the EPP's own live accounting
 * of what it dispatched: one record per endpoint, owned and mutated only by the load ledger, read by
 * main-thread plugins (a copy sent to a worker thread is a picture of the moment it was taken).
 */

export interface EndpointMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  readonly port: number;
  readonly labels: Readonly<Record<string, string>>;
  /** The address of the node the pod runs on (Kubernetes `status.hostIP`), when discovery knows it. */
  readonly nodeAddress?: string;
}

export interface EndpointMetrics {
  readonly waitingQueueSize: number;
  readonly runningRequestsSize: number;
  /** KV-cache use as a 0..1 fraction. */
  readonly kvCacheUsage: number;
  readonly activeModels: ReadonlySet<string>;
  readonly waitingModels: ReadonlySet<string>;
  readonly maxActiveModels: number;
  /** Tokens per KV block; 0 when unknown. */
  readonly cacheBlockSize: number;
  /** KV blocks on the GPU; 0 when unknown. */
  readonly cacheNumBlocks: number;
  /** Milliseconds since the epoch when these metrics were scraped; 0 when never. */
  readonly updateTime: number;
}

/**
 * The EPP's own view of load it placed on an endpoint, updated at pick time (PreRequest) and released by
 * response plugins, so the next cycle sees a reservation before any scrape does.
 */
export interface EndpointLoad {
  /** Requests dispatched and not yet finished. */
  readonly inFlightRequests: number;
  /** Estimated prompt tokens of those requests. */
  readonly inFlightTokens: number;
  /** Requests dispatched after `metrics.updateTime`: not yet visible in the scraped queue. */
  readonly unscrapedDispatches: number;
}

/**
 * The owner of every endpoint's live load record (the director's in-flight tracker implements it). The
 * endpoint store asks it for the record to put in snapshots and tells it when a scrape arrived; nothing
 * else mutates the records.
 */
export interface LoadLedger extends EndpointLifecycleListener {
  /** The live record of `endpointKey` (created on first use); the same object for the endpoint's lifetime. */
  loadOf(endpointKey: string): EndpointLoad;
  /** A scrape taken at `updateTime` (ms) reflects every dispatch made before it. */
  scraped(endpointKey: string, updateTime: number): void;
}

export interface Endpoint {
  /** Stable identity: `namespace/name`. */
  readonly key: string;
  /** `address:port`, what goes on the wire. */
  readonly hostPort: string;
  readonly metadata: EndpointMetadata;
  readonly metrics: EndpointMetrics;
  readonly load: EndpointLoad;
  /** Typed attributes written by data-layer producers, read by plugins. */
  readonly attributes: ReadonlyMap<string, unknown>;
}

/** An immutable view of the pool, numbered so workers receive each epoch once. */
export interface EndpointSnapshot {
  readonly epoch: number;
  readonly endpoints: readonly Endpoint[];
}

export const EMPTY_METRICS: EndpointMetrics = Object.freeze({
  waitingQueueSize: 0,
  runningRequestsSize: 0,
  kvCacheUsage: 0,
  activeModels: new Set<string>(),
  waitingModels: new Set<string>(),
  maxActiveModels: 0,
  cacheBlockSize: 0,
  cacheNumBlocks: 0,
  updateTime: 0,
});

export const EMPTY_LOAD: EndpointLoad = Object.freeze({ inFlightRequests: 0, inFlightTokens: 0, unscrapedDispatches: 0 });

/** Plugins that keep per-endpoint state implement this so the data layer can purge endpoints that left. */
export interface EndpointLifecycleListener {
  endpointRemoved(key: string): void;
  /** An endpoint joined, or moved to another address (its old address went with endpointRemoved first). */
  endpointAdded?(endpoint: Endpoint): void;
}

export function isEndpointLifecycleListener(p: object): p is EndpointLifecycleListener {
  return typeof (p as Partial<EndpointLifecycleListener>).endpointRemoved === 'function';
}
