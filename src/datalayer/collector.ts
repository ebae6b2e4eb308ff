/**
 * Scrapes every endpoint's metrics page on an interval and writes the figures to the endpoint store.
 * Each endpoint has its own loop; the next scrape is scheduled when the previous one ends, so a slow pod
 * never has two scrapes in flight. Each loop keeps one connection to its pod alive. A failed scrape leaves the
 * last good figures in place and their update time unchanged, so staleness shows it.
 */
import type { Endpoint, EndpointMetadata } from '../framework/endpoint.js';
import type { EndpointStore } from './endpoint-store.js';
import { MetricsExtractor } from './extract.js';
import type { MetricsMapping } from '../framework/datalayer.js';
import { PageClient } from './page-client.js';

export interface CollectorOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly maxPageBytes: number;
  readonly scheme: 'http' | 'https';
  readonly path: string;
  readonly insecureSkipVerify: boolean;
  readonly now: () => number;
  /** Which series hold which figure, per engine (a metrics mapper plugin's); the collector knows no engine itself. */
  readonly mapping: MetricsMapping;
  /** Called when an endpoint's scrape state changes (healthy ↔ failing, or the failure reason changes). */
  readonly onStateChange?: (key: string, problem: string | undefined) => void;
  /** Told of every scrape's end and of every endpoint whose loop stopped (metrics per pod). */
  readonly observer?: ScrapeObserver;
}

/**
 * How a scrape ended: `ok`; a poll failure (no page: `timeout`, `connection`, `http-status`, `too-large`,
 * `protocol`, or `engine` when the pod names an engine no mapping knows); or `extract` (a page came, but
 * wanted series were missing or malformed).
 */
export type ScrapeOutcome = 'ok' | 'extract' | 'timeout' | 'connection' | 'http-status' | 'too-large' | 'protocol' | 'engine';

export interface ScrapeObserver {
  scraped(endpoint: EndpointMetadata, seconds: number, outcome: ScrapeOutcome): void;
  /** The endpoint left: whatever is kept per endpoint can go. */
  stopped(endpoint: EndpointMetadata): void;
}

export const DEFAULT_COLLECTOR_OPTIONS: Omit<CollectorOptions, 'mapping'> = {
  intervalMs: 50,
  timeoutMs: 1000,
  maxPageBytes: 8 * 1024 * 1024,
  scheme: 'http',
  path: '/metrics',
  insecureSkipVerify: false,
  now: Date.now,
};

interface Loop {
  readonly key: string;
  /** The endpoint as last scraped (for the observer's labels). */
  metadata: EndpointMetadata | undefined;
  /** Created at the first reschedule, then re-armed with `refresh()`: no timer object per scrape. */
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
  problem: string | undefined;
  /** How the last scrape ended (undefined before the first). */
  outcome: ScrapeOutcome | undefined;
  scrapes: number;
  client: PageClient | undefined;
}

export class MetricsCollector {
  readonly #store: EndpointStore;
  readonly #options: CollectorOptions;
  readonly #loops = new Map<string, Loop>();
  readonly #extractors = new Map<string, MetricsExtractor>();
  /** One sweep enforces every pod's scrape deadline (a timeout lands within a tenth of it). */
  #sweep: NodeJS.Timeout | undefined;

  constructor(store: EndpointStore, options: Partial<CollectorOptions> & Pick<CollectorOptions, 'mapping'>) {
    this.#store = store;
    this.#options = { ...DEFAULT_COLLECTOR_OPTIONS, ...options };
  }

  /** Starts loops for endpoints that appeared and stops those of endpoints that left. */
  sync(endpoints: readonly Endpoint[]): void {
    const live = new Set(endpoints.map((e) => e.key));
    for (const key of [...this.#loops.keys()]) if (!live.has(key)) this.#stop(key);
    for (const e of endpoints) {
      if (this.#loops.has(e.key)) continue;
      const loop: Loop = { key: e.key, metadata: undefined, timer: undefined, stopped: false, problem: undefined, outcome: undefined, scrapes: 0, client: undefined };
      this.#loops.set(e.key, loop);
      this.#run(loop);
    }
    if (this.#loops.size > 0 && !this.#sweep) {
      const every = Math.max(10, Math.min(100, this.#options.timeoutMs / 10));
      this.#sweep = setInterval(() => this.#expire(), every);
    } else if (this.#loops.size === 0) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }

  /** How the endpoint's last scrape ended, typed; undefined before the first. */
  lastOutcome(key: string): ScrapeOutcome | undefined {
    return this.#loops.get(key)?.outcome;
  }

  /** Why an endpoint's last scrape failed; undefined when it succeeded (or has not run). */
  problem(key: string): string | undefined {
    return this.#loops.get(key)?.problem;
  }

  scrapes(key: string): number {
    return this.#loops.get(key)?.scrapes ?? 0;
  }

  /** Stops every loop; a scrape in flight is abandoned (its connection closed), nothing keeps running. */
  async close(): Promise<void> {
    for (const key of [...this.#loops.keys()]) this.#stop(key);
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #stop(key: string): void {
    const loop = this.#loops.get(key);
    if (!loop) return;
    loop.stopped = true;
    clearTimeout(loop.timer);
    loop.client?.close();
    this.#loops.delete(key);
    if (loop.metadata) this.#options.observer?.stopped(loop.metadata);
  }

  #expire(): void {
    const now = performance.now();
    for (const loop of this.#loops.values()) loop.client?.expire(now, this.#options.timeoutMs);
  }

  #schedule(loop: Loop): void {
    if (loop.stopped) return;
    if (loop.timer) loop.timer.refresh();
    else loop.timer = setTimeout(() => this.#run(loop), this.#options.intervalMs);
  }

  #run(loop: Loop): void {
    const endpoint = this.#store.get(loop.key);
    if (!endpoint) return this.#schedule(loop);
    const observer = this.#options.observer;
    if (observer && loop.metadata !== endpoint.metadata) {
      if (loop.metadata && (loop.metadata.address !== endpoint.metadata.address || loop.metadata.port !== endpoint.metadata.port)) observer.stopped(loop.metadata);
      loop.metadata = endpoint.metadata;
    }
    const engine = endpoint.metadata.labels[this.#options.mapping.engineLabelKey] ?? this.#options.mapping.defaultEngine;
    let extractor: MetricsExtractor;
    try {
      extractor = this.#extractorFor(engine);
    } catch (err) {
      return this.#finish(loop, (err as Error).message, 0, 'engine');
    }
    const started = performance.now();
    this.#clientFor(loop, endpoint.metadata).get(this.#options.maxPageBytes, (err, page) => {
      if (loop.stopped) return;
      const seconds = (performance.now() - started) / 1000;
      if (err) return this.#finish(loop, `${err.reason}: ${err.message}`, seconds, err.reason);
      const metrics = extractor.extract(page!);
      this.#store.updateMetrics(loop.key, metrics, this.#options.now());
      const bad = metrics.problems.length > 0;
      this.#finish(loop, bad ? `incomplete page: ${metrics.problems.join('; ')}` : undefined, seconds, bad ? 'extract' : 'ok');
    }, started);
  }

  #finish(loop: Loop, problem: string | undefined, seconds: number, outcome: ScrapeOutcome): void {
    if (loop.metadata) this.#options.observer?.scraped(loop.metadata, seconds, outcome);
    loop.scrapes++;
    loop.outcome = outcome;
    if (problem !== loop.problem) {
      loop.problem = problem;
      this.#options.onStateChange?.(loop.key, problem);
    }
    this.#schedule(loop);
  }

  /** The loop's connection, reopened when discovery moved the endpoint to another address. */
  #clientFor(loop: Loop, { address, port }: EndpointMetadata): PageClient {
    const current = loop.client?.target;
    if (current?.host === address && current.port === port) return loop.client!;
    loop.client?.close();
    const { scheme, path, insecureSkipVerify } = this.#options;
    loop.client = new PageClient({ host: address, port, path, scheme, insecureSkipVerify });
    return loop.client;
  }

  #extractorFor(engine: string): MetricsExtractor {
    let extractor = this.#extractors.get(engine);
    if (!extractor) {
      const { engines, engineLabelKey } = this.#options.mapping;
      const mapping = engines.get(engine);
      if (!mapping) throw new Error(`unknown engine "${engine}" (label ${engineLabelKey}; known: ${[...engines.keys()].join(', ')})`);
      extractor = new MetricsExtractor(mapping);
      this.#extractors.set(engine, extractor);
    }
    return extractor;
  }
}
