/**
 * The simulated engine: a FIFO waiting queue, a running batch of at most `maxRunning`, prefill time that
 * grows with the prompt's uncached tokens, a fixed decode time per output token, a paged KV cache with prefix
 * reuse, and LoRA adapters loaded into `maxLora` slots. Times come from the model, not the wall clock, so
 * the TTFT a request reports is deterministic for a given history; timers only pace delivery.
 */
import { chainHashes, xxh64 } from '../plugins/approx-prefix-cache-producer/xxh64.js';
import { KvCache } from './kv-cache.js';

export interface EngineOptions {
  readonly model: string;
  readonly adapters: readonly string[];
  readonly maxRunning: number;
  readonly numGpuBlocks: number;
  readonly blockTokens: number;
  readonly prefillTokensPerSecond: number;
  readonly decodeMsPerToken: number;
  readonly maxLora: number;
  readonly loraLoadMs: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  model: 'sim-model',
  adapters: [],
  maxRunning: 8,
  numGpuBlocks: 2048,
  blockTokens: 16,
  prefillTokensPerSecond: 20_000,
  decodeMsPerToken: 5,
  maxLora: 2,
  loraLoadMs: 50,
};

export interface SimRequest {
  readonly prompt: Uint8Array;
  readonly maxTokens: number;
  /** The LoRA adapter, or undefined for the base model. */
  readonly adapter?: string;
  /** Called once per generated token, after the first token's prefill. */
  readonly onToken?: (index: number) => void;
}

export interface SimResult {
  readonly promptTokens: number;
  readonly cachedTokens: number;
  readonly completionTokens: number;
  /** Model time from admission to the batch to the first token, in ms. */
  readonly ttftMs: number;
  readonly queueMs: number;
}

interface Job {
  readonly request: SimRequest;
  readonly hashes: Float64Array;
  readonly enqueuedAt: number;
  readonly resolve: (r: SimResult) => void;
  readonly reject: (e: Error) => void;
}

export class SimEngine {
  readonly options: EngineOptions;
  readonly kv: KvCache;
  readonly waiting: Job[] = [];
  running = 0;
  /** Loaded adapters with the number of running requests using each. */
  readonly loadedAdapters = new Map<string, number>();
  readonly loadingAdapters = new Set<string>();
  readonly stats = { promptTokens: 0, generationTokens: 0, success: 0, prefixQueries: 0, prefixHits: 0, ttftMs: [] as number[] };
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Jobs in the running batch, so close() can fail them instead of leaving their callers hanging. */
  readonly #active = new Set<Job>();
  #closed = false;

  constructor(options: Partial<EngineOptions> = {}) {
    this.options = { ...DEFAULT_ENGINE_OPTIONS, ...options };
    this.kv = new KvCache(this.options.numGpuBlocks);
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  submit(request: SimRequest): Promise<SimResult> {
    if (this.#closed) return Promise.reject(new Error('engine closed'));
    const blockBytes = this.options.blockTokens * 4;
    const hashes = chainHashes(request.prompt, blockBytes, Infinity, xxh64(new TextEncoder().encode(request.adapter ?? this.options.model)));
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, hashes: hashes.subarray(0, Math.floor(request.prompt.length / blockBytes)), enqueuedAt: performance.now(), resolve, reject });
      this.#schedule();
    });
  }

  /** Fails everything queued or running and clears every timer. */
  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const job of [...this.waiting.splice(0), ...this.#active]) job.reject(new Error('engine closed'));
    this.#active.clear();
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #schedule(): void {
    for (let i = 0; i < this.waiting.length && this.running < this.options.maxRunning; ) {
      const job = this.waiting[i]!;
      const adapter = job.request.adapter;
      if (adapter && !this.loadedAdapters.has(adapter)) {
        this.#loadAdapter(adapter);
        i++; // this one waits for its adapter; later ones may run
        continue;
      }
      const outputBlocks = Math.ceil((job.request.maxTokens + (job.request.prompt.length % (this.options.blockTokens * 4)) / 4) / this.options.blockTokens);
      if (!this.kv.canHold(job.hashes, outputBlocks)) break; // out of KV: wait for a release
      this.waiting.splice(i, 1);
      this.#start(job, outputBlocks);
    }
  }

  #loadAdapter(adapter: string): void {
    if (this.loadingAdapters.has(adapter)) return;
    if (this.loadedAdapters.size + this.loadingAdapters.size >= this.options.maxLora) {
      const idle = [...this.loadedAdapters].find(([, users]) => users === 0);
      if (!idle) return; // every slot busy: wait for a request to finish
      this.loadedAdapters.delete(idle[0]);
    }
    this.loadingAdapters.add(adapter);
    this.#later(this.options.loraLoadMs, () => {
      this.loadingAdapters.delete(adapter);
      this.loadedAdapters.set(adapter, 0);
      this.#schedule();
    });
  }

  #start(job: Job, outputBlocks: number): void {
    const { request, hashes } = job;
    const promptTokens = Math.ceil(request.prompt.length / 4);
    const cachedBlocks = this.kv.cachedPrefix(hashes);
    const cachedTokens = Math.min(promptTokens, cachedBlocks * this.options.blockTokens);
    this.kv.hold(hashes, outputBlocks);
    this.running++;
    this.#active.add(job);
    if (request.adapter) this.loadedAdapters.set(request.adapter, (this.loadedAdapters.get(request.adapter) ?? 0) + 1);
    this.stats.prefixQueries += hashes.length;
    this.stats.prefixHits += cachedBlocks;
    const prefillMs = ((promptTokens - cachedTokens) / this.options.prefillTokensPerSecond) * 1000;
    const queueMs = performance.now() - job.enqueuedAt;
    const ttftMs = prefillMs + this.options.decodeMsPerToken;
    let produced = 0;
    const step = () => {
      request.onToken?.(produced);
      produced++;
      if (produced < request.maxTokens) return this.#later(this.options.decodeMsPerToken, step);
      this.running--;
      this.#active.delete(job);
      this.kv.release(hashes, outputBlocks);
      if (request.adapter) this.loadedAdapters.set(request.adapter, (this.loadedAdapters.get(request.adapter) ?? 1) - 1);
      this.stats.promptTokens += promptTokens;
      this.stats.generationTokens += produced;
      this.stats.success++;
      this.stats.ttftMs.push(ttftMs);
      job.resolve({ promptTokens, cachedTokens, completionTokens: produced, ttftMs, queueMs });
      this.#schedule();
    };
    this.#later(ttftMs, step);
  }
}
