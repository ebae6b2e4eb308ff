/**
 * The simulated engine: a FIFO waiting queue, a running batch of at most `maxRunning`, prefill time that
 * grows with the prompt's uncached tokens, a fixed decode time per output token, a paged KV cache with prefix
 * reuse, and LoRA adapters loaded into `maxLora` slots. Times come from the model, not the wall clock, so
 * the TTFT a request reports is deterministic for a given history; timers only pace delivery.
 */
import { chainHashes, xxh64 } from '../plugins/approx-prefix-cache-producer/xxh64.js';
import { KvCache } from './kv-cache.js';
import { ConfigError } from '../errors.js';

/** Who hears what the prefix cache stores and drops (the KV-event publisher). */
export interface KvEventSink {
  blockStored(hashes: number[], parent: number | undefined, tokens: ArrayLike<number>, blockSize: number, lora: string | undefined): void;
  blockRemoved(hash: number): void;
  allBlocksCleared(): void;
}

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
  /** Prompt + output tokens a request may ask for (vLLM's max_model_len); 0 = the whole KV cache. */
  readonly maxModelLen: number;
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
  maxModelLen: 0,
};

/** A request the model cannot take (vLLM's 400 BadRequestError). */
export class SimRequestError extends Error {}

/** The request's client went away; it left the queue or the batch. */
export class SimCancelled extends Error {}

export interface SimRequest {
  readonly prompt: Uint8Array;
  /** The prompt's token ids, when the server tokenized it: blocks are then cut from them (else ~4 bytes a token). */
  readonly tokenIds?: Uint32Array;
  readonly maxTokens: number;
  /** The LoRA adapter, or undefined for the base model. */
  readonly adapter?: string;
  /** Called once per generated token, after the first token's prefill. */
  readonly onToken?: (index: number) => void;
  /** Aborting takes the request out of the queue or the running batch (its KV blocks are released). */
  readonly signal?: AbortSignal;
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
  readonly promptTokens: number;
  readonly enqueuedAt: number;
  readonly resolve: (r: SimResult) => void;
  readonly reject: (e: Error) => void;
  /** Set once the job runs: stops it and gives its resources back. */
  stop?: () => void;
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
  #events: KvEventSink | undefined;

  constructor(options: Partial<EngineOptions> = {}) {
    const merged = { ...DEFAULT_ENGINE_OPTIONS, ...options };
    const capacity = merged.numGpuBlocks * merged.blockTokens;
    // As vLLM refuses to start when max_model_len does not fit the KV cache: a request it admits must fit an empty cache.
    if (merged.maxModelLen > capacity) throw new ConfigError('--max-model-len', `max model length ${merged.maxModelLen} is larger than the KV cache holds (${merged.numGpuBlocks} blocks × ${merged.blockTokens} tokens = ${capacity})`);
    this.options = { ...merged, maxModelLen: merged.maxModelLen || capacity };
    this.kv = new KvCache(this.options.numGpuBlocks, (hash) => this.#events?.blockRemoved(hash));
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** From now on every block the prefix cache stores or drops is reported to `sink`. */
  publishKvEvents(sink: KvEventSink): void {
    this.#events = sink;
  }

  /** vLLM's reset_prefix_cache: nothing cached matches any more (running requests keep their memory); AllBlocksCleared. */
  resetPrefixCache(): void {
    this.kv.reset();
    this.#events?.allBlocksCleared();
  }

  /** The cache as a restarted process has it: empty, and nothing published about it. */
  forgetCache(): void {
    this.kv.reset();
  }

  /** vLLM's message when prompt + output exceed the model length, else undefined. */
  refusal(promptBytes: number, maxTokens: number, promptTokens = Math.ceil(promptBytes / 4)): string | undefined {
    const max = this.options.maxModelLen;
    if (promptTokens + maxTokens <= max) return undefined;
    return `This model's maximum context length is ${max} tokens. However, you requested ${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`;
  }

  submit(request: SimRequest): Promise<SimResult> {
    if (this.#closed) return Promise.reject(new Error('engine closed'));
    const { tokenIds } = request;
    const promptTokens = tokenIds ? tokenIds.length : Math.ceil(request.prompt.length / 4);
    const refused = this.refusal(request.prompt.length, request.maxTokens, promptTokens);
    if (refused) return Promise.reject(new SimRequestError(refused));
    if (request.signal?.aborted) return Promise.reject(new SimCancelled('cancelled'));
    // Blocks from the token ids (4 bytes each) when known, else from ~4 prompt bytes a token.
    const source = tokenIds ? new Uint8Array(tokenIds.buffer, tokenIds.byteOffset, tokenIds.byteLength) : request.prompt;
    const blockBytes = this.options.blockTokens * 4;
    const hashes = chainHashes(source, blockBytes, Infinity, xxh64(new TextEncoder().encode(request.adapter ?? this.options.model)));
    return new Promise((resolve, reject) => {
      const job: Job = { request, promptTokens, hashes: hashes.subarray(0, Math.floor(source.length / blockBytes)), enqueuedAt: performance.now(), resolve, reject };
      request.signal?.addEventListener('abort', () => this.#cancel(job), { once: true });
      this.waiting.push(job);
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

  #later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
    return t;
  }

  /** A cancelled request leaves the queue, or stops running and frees its blocks; the queue moves on. */
  #cancel(job: Job): void {
    const i = this.waiting.indexOf(job);
    if (i >= 0) this.waiting.splice(i, 1);
    else if (this.#active.has(job)) job.stop?.();
    else return;
    job.reject(new SimCancelled('cancelled'));
    this.#schedule();
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
      const outputBlocks = Math.ceil((job.request.maxTokens + (job.promptTokens % this.options.blockTokens)) / this.options.blockTokens);
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

  /** BlockStored for each run of the prompt's full blocks the cache lacks, chained to the block before it. */
  #publishStored(job: Job, from: number): void {
    const { hashes, request } = job;
    const bt = this.options.blockTokens;
    for (let i = from; i < hashes.length; ) {
      if (this.kv.has(hashes[i]!)) {
        i++;
        continue;
      }
      let end = i + 1;
      while (end < hashes.length && !this.kv.has(hashes[end]!)) end++;
      const tokens = request.tokenIds ? request.tokenIds.subarray(i * bt, end * bt) : new Uint32Array(0);
      this.#events!.blockStored(Array.from(hashes.subarray(i, end)), i === 0 ? undefined : hashes[i - 1], tokens, bt, request.adapter);
      i = end;
    }
  }

  #start(job: Job, outputBlocks: number): void {
    const { request, hashes, promptTokens } = job;
    const cachedBlocks = this.kv.cachedPrefix(hashes);
    const cachedTokens = Math.min(promptTokens, cachedBlocks * this.options.blockTokens);
    if (this.#events) this.#publishStored(job, cachedBlocks);
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
    let timer: NodeJS.Timeout | undefined;
    const release = () => {
      this.running--;
      this.#active.delete(job);
      this.kv.release(hashes, outputBlocks);
      if (request.adapter) this.loadedAdapters.set(request.adapter, (this.loadedAdapters.get(request.adapter) ?? 1) - 1);
    };
    job.stop = () => {
      if (timer) {
        clearTimeout(timer);
        this.#timers.delete(timer);
      }
      release();
    };
    const step = () => {
      request.onToken?.(produced);
      produced++;
      if (produced < request.maxTokens) {
        timer = this.#later(this.options.decodeMsPerToken, step);
        return;
      }
      release();
      this.stats.promptTokens += promptTokens;
      this.stats.generationTokens += produced;
      this.stats.success++;
      this.stats.ttftMs.push(ttftMs);
      job.resolve({ promptTokens, cachedTokens, completionTokens: produced, ttftMs, queueMs });
      this.#schedule();
    };
    timer = this.#later(ttftMs, step);
  }
}
