/**
 * Reads an attribute source's page (a GPU exporter, say) for every endpoint on the source's own interval and
 * writes what its extractors make of it into the endpoints' attributes. One ticker starts every idle
 * endpoint's read and fails reads that outlived the timeout (so a hung exporter is noticed within one
 * timeout plus one interval). A failed read keeps an extractor's last attributes until they are older than
 * the staleness threshold, then drops them, so a filter's missing-attribute policy decides rather than a
 * figure from minutes ago.
 */
import type { Endpoint } from '../framework/endpoint.js';
import type { AttributeExtractor, AttributeSource, PageSample } from '../framework/datalayer.js';
import type { EndpointStore } from './endpoint-store.js';
import { PageClient } from './page-client.js';
import { stopLoop, syncLoops } from './endpoint-loops.js';
import { SampleNames, scanSamples } from './prom-text.js';

export interface AttributeCollectorOptions {
  readonly source: AttributeSource;
  readonly extractors: readonly AttributeExtractor[];
  /** The data layer's refresh interval: the source's interval is rounded to a multiple of it. */
  readonly baseIntervalMs: number;
  readonly timeoutMs: number;
  readonly maxPageBytes: number;
  readonly stalenessMs: number;
  readonly now: () => number;
  /** Called when an endpoint's read state changes (healthy ↔ failing, or the reason changes). */
  readonly onStateChange?: (key: string, problem: string | undefined) => void;
}

interface Loop {
  readonly key: string;
  busy: boolean;
  stopped: boolean;
  client: PageClient | undefined;
  problem: string | undefined;
  /** Per extractor, when it last produced its attributes (ms); 0 = never. */
  readonly lastGood: number[];
}

/** llm-d rounds a source's interval to the nearest multiple of the refresh interval; omitted means every tick. */
export function roundedInterval(askedMs: number | undefined, baseMs: number): number {
  if (askedMs === undefined) return baseMs;
  return Math.max(1, Math.round(askedMs / baseMs)) * baseMs;
}

export class AttributeCollector {
  readonly #store: EndpointStore;
  readonly #options: AttributeCollectorOptions;
  readonly #names: SampleNames;
  readonly #intervalMs: number;
  readonly #loops = new Map<string, Loop>();
  #tick: NodeJS.Timeout | undefined;

  constructor(store: EndpointStore, options: AttributeCollectorOptions) {
    this.#store = store;
    this.#options = options;
    this.#names = new SampleNames(options.extractors.flatMap((x) => x.metricNames));
    this.#intervalMs = roundedInterval(options.source.attributePage.intervalMs, options.baseIntervalMs);
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Starts reads for endpoints that appeared, stops those of endpoints that left. */
  sync(endpoints: readonly Endpoint[]): void {
    syncLoops(
      this.#loops,
      endpoints,
      (e): Loop => ({ key: e.key, busy: false, stopped: false, client: undefined, problem: undefined, lastGood: this.#options.extractors.map(() => 0) }),
      (key) => this.#stop(key),
      (loop) => this.#run(loop),
    );
    if (this.#loops.size > 0 && !this.#tick) this.#tick = setInterval(() => this.#onTick(), this.#intervalMs);
    else if (this.#loops.size === 0) this.#stopTimer();
  }

  /** Why the endpoint's last read failed (or what its extractors missed); undefined when it was good. */
  problem(key: string): string | undefined {
    return this.#loops.get(key)?.problem;
  }

  async close(): Promise<void> {
    for (const key of [...this.#loops.keys()]) this.#stop(key);
    this.#stopTimer();
  }

  #stopTimer(): void {
    clearInterval(this.#tick);
    this.#tick = undefined;
  }

  #stop(key: string): void {
    stopLoop(this.#loops, key);
  }

  #onTick(): void {
    const now = performance.now();
    for (const loop of this.#loops.values()) {
      loop.client?.expire(now, this.#options.timeoutMs);
      if (!loop.busy) this.#run(loop);
    }
  }

  #run(loop: Loop): void {
    const endpoint = this.#store.get(loop.key);
    if (!endpoint) return;
    const page = this.#options.source.attributePage;
    const host = page.useNodeAddress ? endpoint.metadata.nodeAddress : endpoint.metadata.address;
    if (!host) return this.#finish(loop, new Map(), 'the endpoint has no node address (useNodeAddress is set; discovery reports none)', []);
    loop.busy = true;
    this.#clientFor(loop, host).get(this.#options.maxPageBytes, (err, body) => {
      if (loop.stopped) return;
      if (err) return this.#finish(loop, new Map(), `${err.reason}: ${err.message}`, []);
      const samples: PageSample[] = [];
      scanSamples(body!, this.#names, (s) => samples.push(s), () => {});
      const values = new Map<string, unknown>();
      const problems: string[] = [];
      const good = this.#options.extractors.map((x) => {
        try {
          for (const [k, v] of x.extractAttributes(samples, endpoint.metadata)) values.set(k, v);
          return true;
        } catch (e) {
          problems.push(`${x.name}: ${(e as Error).message}`);
          return false;
        }
      });
      this.#finish(loop, values, problems.length ? problems.join('; ') : undefined, good);
    });
  }

  /** Writes what was read, drops attributes gone stale, records the state; `good[i]`: extractor i produced. */
  #finish(loop: Loop, values: ReadonlyMap<string, unknown>, problem: string | undefined, good: readonly boolean[]): void {
    const now = this.#options.now();
    const stale: string[] = [];
    this.#options.extractors.forEach((x, i) => {
      if (good[i]) loop.lastGood[i] = now;
      else if (now - loop.lastGood[i]! > this.#options.stalenessMs) stale.push(...x.produces);
    });
    this.#store.putAttributes(loop.key, values, stale);
    if (problem !== loop.problem) {
      loop.problem = problem;
      this.#options.onStateChange?.(loop.key, problem);
    }
    loop.busy = false;
  }

  /** The loop's connection, reopened when the endpoint's address changed. */
  #clientFor(loop: Loop, host: string): PageClient {
    const { scheme, path, port, insecureSkipVerify } = this.#options.source.attributePage;
    if (loop.client?.target.host === host) return loop.client;
    loop.client?.close();
    loop.client = new PageClient({ host, port, path, scheme, insecureSkipVerify });
    return loop.client;
  }
}
