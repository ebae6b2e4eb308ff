/**
 * The pool as the scheduler sees it. Discovery and collectors write here; readers take `snapshot()`, an
 * immutable list numbered by epoch. Endpoint and metrics objects are replaced, never mutated, so a reader
 * holding a snapshot never sees a half-updated endpoint. The snapshot is rebuilt lazily, at most once per
 * read after a change, so 2,000 metric updates a second do not mean 2,000 rebuilds.
 */
import type { Endpoint, EndpointLifecycleListener, EndpointMetadata, EndpointMetrics, EndpointSnapshot, LoadLedger } from '../framework/endpoint.js';
import { EMPTY_METRICS } from '../framework/endpoint.js';
import { endpointKey, type DiscoverySink } from '../framework/discovery.js';
import type { ExtractedMetrics } from './extract.js';

const sameMetadata = (a: EndpointMetadata, b: EndpointMetadata) =>
  a.address === b.address &&
  a.port === b.port &&
  a.nodeAddress === b.nodeAddress &&
  Object.keys(a.labels).length === Object.keys(b.labels).length &&
  Object.entries(a.labels).every(([k, v]) => b.labels[k] === v);

/** `current` with `values` written and `remove` dropped: a new map, or `current` itself when that changes nothing. */
function mergedAttributes(current: ReadonlyMap<string, unknown>, values: ReadonlyMap<string, unknown>, remove: readonly string[] = []): ReadonlyMap<string, unknown> {
  const changed = remove.some((k) => current.has(k)) || [...values].some(([k, v]) => !current.has(k) || current.get(k) !== v);
  if (!changed) return current;
  const next = new Map(current);
  for (const k of remove) next.delete(k);
  for (const [k, v] of values) next.set(k, v);
  return next;
}

export class EndpointStore implements DiscoverySink {
  readonly #endpoints = new Map<string, Endpoint>();
  readonly #ledger: LoadLedger;
  readonly #listeners: readonly EndpointLifecycleListener[];
  #snapshot: EndpointSnapshot = Object.freeze({ epoch: 0, endpoints: Object.freeze([]) });
  #dirty = false;
  #ready = false;
  readonly #readyWaiters: (() => void)[] = [];
  readonly #changeListeners: (() => void)[] = [];

  constructor(ledger: LoadLedger, listeners: readonly EndpointLifecycleListener[] = []) {
    this.#ledger = ledger;
    this.#listeners = listeners;
  }

  upsert(metadata: EndpointMetadata): void {
    const key = endpointKey(metadata);
    const existing = this.#endpoints.get(key);
    if (existing && sameMetadata(existing.metadata, metadata)) return;
    const frozen = Object.freeze({ ...metadata, labels: Object.freeze({ ...metadata.labels }) });
    const moved = existing !== undefined && existing.hostPort !== `${metadata.address}:${metadata.port}`;
    if (moved) for (const l of this.#listeners) l.endpointRemoved(key);
    const endpoint: Endpoint = Object.freeze({
        key,
        hostPort: `${metadata.address}:${metadata.port}`,
        metadata: frozen,
        // A moved endpoint is a new server: its old metrics say nothing about it.
        metrics: existing && existing.hostPort === `${metadata.address}:${metadata.port}` ? existing.metrics : EMPTY_METRICS,
        load: this.#ledger.loadOf(key),
        attributes: existing?.attributes ?? new Map(),
      });
    this.#endpoints.set(key, endpoint);
    if (!existing || moved) for (const l of this.#listeners) l.endpointAdded?.(endpoint);
    this.#changed();
  }

  /** `listener` runs after every change: an endpoint joined, moved or left, or new metrics arrived. */
  onChange(listener: () => void): void {
    this.#changeListeners.push(listener);
  }

  #changed(): void {
    this.#dirty = true;
    for (const l of this.#changeListeners) l();
  }

  delete(key: string): void {
    if (!this.#endpoints.delete(key)) return;
    for (const l of this.#listeners) l.endpointRemoved(key);
    this.#ledger.endpointRemoved(key);
    this.#changed();
  }

  ready(): void {
    if (this.#ready) return;
    this.#ready = true;
    for (const w of this.#readyWaiters.splice(0)) w();
  }

  get isReady(): boolean {
    return this.#ready;
  }

  whenReady(): Promise<void> {
    return this.#ready ? Promise.resolve() : new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  get(key: string): Endpoint | undefined {
    return this.#endpoints.get(key);
  }

  /**
   * Applies a scrape taken at `updateTime`. Figures the page lacked (missing, NaN) keep their last good
   * value; the update time still moves, since the pod answered.
   */
  updateMetrics(key: string, scraped: ExtractedMetrics, updateTime: number): void {
    const e = this.#endpoints.get(key);
    if (!e) return; // the endpoint left while its scrape was in flight
    const m = e.metrics;
    const metrics: EndpointMetrics = Object.freeze({
      waitingQueueSize: scraped.waitingQueueSize ?? m.waitingQueueSize,
      runningRequestsSize: scraped.runningRequestsSize ?? m.runningRequestsSize,
      kvCacheUsage: scraped.kvCacheUsage ?? m.kvCacheUsage,
      activeModels: scraped.activeModels ?? m.activeModels,
      waitingModels: scraped.waitingModels ?? m.waitingModels,
      maxActiveModels: scraped.maxActiveModels ?? m.maxActiveModels,
      cacheBlockSize: scraped.cacheBlockSize ?? m.cacheBlockSize,
      cacheNumBlocks: scraped.cacheNumBlocks ?? m.cacheNumBlocks,
      updateTime,
    });
    // Custom series become attributes (see putAttributes).
    const attributes = scraped.attributes ? mergedAttributes(e.attributes, scraped.attributes) : e.attributes;
    this.#endpoints.set(key, Object.freeze({ ...e, metrics, attributes }));
    this.#ledger.scraped(key, updateTime); // dispatches before this scrape are now in its figures
    this.#changed();
  }

  /**
   * Writes attributes (`values`) and drops others (`remove`) of an endpoint. The attribute map is replaced,
   * not changed in place, so snapshots already taken keep theirs and workers see that it changed; when
   * nothing changes it is kept, so an unchanged reading does not make a new snapshot.
   */
  putAttributes(key: string, values: ReadonlyMap<string, unknown>, remove: readonly string[] = []): void {
    const e = this.#endpoints.get(key);
    if (!e) return;
    const attributes = mergedAttributes(e.attributes, values, remove);
    if (attributes === e.attributes) return;
    this.#endpoints.set(key, Object.freeze({ ...e, attributes }));
    this.#changed();
  }

  snapshot(): EndpointSnapshot {
    if (this.#dirty) {
      this.#dirty = false;
      this.#snapshot = Object.freeze({ epoch: this.#snapshot.epoch + 1, endpoints: Object.freeze([...this.#endpoints.values()]) });
    }
    return this.#snapshot;
  }
}
