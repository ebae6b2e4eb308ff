/**
 * Scrapes every endpoint's metrics page on an interval and writes the figures to the endpoint store.
 * Each endpoint has its own loop; the next scrape is scheduled when the previous one ends, so a slow pod
 * never has two scrapes in flight. Each loop keeps one connection to its pod alive. A failed scrape leaves the
 * last good figures in place and their update time unchanged, so staleness shows it.
 */
import type { Endpoint, EndpointMetadata } from '../framework/endpoint.js';
import type { EndpointStore } from './endpoint-store.js';
import { MetricsExtractor } from './extract.js';
import { DEFAULT_ENGINE, ENGINE_LABEL_KEY, ENGINES, type EngineMapping } from './engines.js';
import { PageClient, ScrapeError } from './page-client.js';

export interface CollectorOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly maxPageBytes: number;
  readonly scheme: 'http' | 'https';
  readonly path: string;
  readonly insecureSkipVerify: boolean;
  readonly now: () => number;
  /** Engine mappings by name (the core-metrics-extractor's), the pod label naming the engine, and the default. */
  readonly engines: ReadonlyMap<string, EngineMapping>;
  readonly engineLabelKey: string;
  readonly defaultEngine: string;
  /** Called when an endpoint's scrape state changes (healthy ↔ failing, or the failure reason changes). */
  readonly onStateChange?: (key: string, problem: string | undefined) => void;
}

export const DEFAULT_COLLECTOR_OPTIONS: CollectorOptions = {
  intervalMs: 50,
  timeoutMs: 1000,
  maxPageBytes: 8 * 1024 * 1024,
  scheme: 'http',
  path: '/metrics',
  insecureSkipVerify: false,
  now: Date.now,
  engines: ENGINES,
  engineLabelKey: ENGINE_LABEL_KEY,
  defaultEngine: DEFAULT_ENGINE,
};

interface Loop {
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
  inFlight: Promise<void> | undefined;
  problem: string | undefined;
  scrapes: number;
  client: PageClient | undefined;
}

export class MetricsCollector {
  readonly #store: EndpointStore;
  readonly #options: CollectorOptions;
  readonly #loops = new Map<string, Loop>();
  readonly #extractors = new Map<string, MetricsExtractor>();

  constructor(store: EndpointStore, options: Partial<CollectorOptions> = {}) {
    this.#store = store;
    this.#options = { ...DEFAULT_COLLECTOR_OPTIONS, ...options };
  }

  /** Starts loops for endpoints that appeared and stops those of endpoints that left. */
  sync(endpoints: readonly Endpoint[]): void {
    const live = new Set(endpoints.map((e) => e.key));
    for (const key of [...this.#loops.keys()]) if (!live.has(key)) this.#stop(key);
    for (const e of endpoints) {
      if (this.#loops.has(e.key)) continue;
      const loop: Loop = { timer: undefined, stopped: false, inFlight: undefined, problem: undefined, scrapes: 0, client: undefined };
      this.#loops.set(e.key, loop);
      this.#run(e.key, loop);
    }
  }

  /** Why an endpoint's last scrape failed; undefined when it succeeded (or has not run). */
  problem(key: string): string | undefined {
    return this.#loops.get(key)?.problem;
  }

  scrapes(key: string): number {
    return this.#loops.get(key)?.scrapes ?? 0;
  }

  async close(): Promise<void> {
    const pending = [...this.#loops.keys()].map((k) => this.#stop(k));
    await Promise.all(pending);
  }

  #stop(key: string): Promise<void> | undefined {
    const loop = this.#loops.get(key);
    if (!loop) return undefined;
    loop.stopped = true;
    clearTimeout(loop.timer);
    loop.client?.close();
    this.#loops.delete(key);
    return loop.inFlight;
  }

  #run(key: string, loop: Loop): void {
    loop.inFlight = this.#scrape(key, loop).finally(() => {
      loop.inFlight = undefined;
      if (!loop.stopped) loop.timer = setTimeout(() => this.#run(key, loop), this.#options.intervalMs);
    });
  }

  async #scrape(key: string, loop: Loop): Promise<void> {
    const endpoint = this.#store.get(key);
    if (!endpoint) return;
    const engine = endpoint.metadata.labels[this.#options.engineLabelKey] ?? this.#options.defaultEngine;
    let problem: string | undefined;
    try {
      const extractor = this.#extractorFor(engine);
      const page = await this.#clientFor(loop, endpoint.metadata).get(this.#options.timeoutMs, this.#options.maxPageBytes);
      if (loop.stopped) return;
      const metrics = extractor.extract(page);
      this.#store.updateMetrics(key, metrics, this.#options.now());
      if (metrics.problems.length > 0) problem = `incomplete page: ${metrics.problems.join('; ')}`;
    } catch (err) {
      problem = err instanceof ScrapeError ? `${err.reason}: ${err.message}` : `${(err as Error).message}`;
    }
    loop.scrapes++;
    if (problem !== loop.problem) {
      loop.problem = problem;
      this.#options.onStateChange?.(key, problem);
    }
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
      const mapping = this.#options.engines.get(engine);
      if (!mapping) throw new Error(`unknown engine "${engine}" (label ${this.#options.engineLabelKey}; known: ${[...this.#options.engines.keys()].join(', ')})`);
      extractor = new MetricsExtractor(mapping);
      this.#extractors.set(engine, extractor);
    }
    return extractor;
  }
}
