/**
 * token-producer (llm-d's type; `tokenizer` is its legacy alias): tokenizes the request's prompt before
 * scheduling and publishes the ids on the request (`request.tokenizedPrompt`, llm-d's TokenizedPrompt),
 * where the prefix producer, token-load accounting and other consumers read them.
 *
 * Backends: `estimate` (llm-d's byte packing; synchronous), `vllm` (llm-d's render endpoints over HTTP)
 * and `local` (the model's tokenizer files, chat template included, with a segment cache). A failure
 * leaves the request without tokens, as in llm-d: routing goes on with the consumers' own fallbacks.
 */
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginHandle, PluginRegistration } from '../../framework/plugin.js';
import { TOKENIZED_PROMPT_KEY, type InferenceRequest, type PromptTokens, type TokenizedPrompt } from '../../framework/request.js';
import type { DataProducer } from '../../framework/request-control.js';
import { ConfigError } from '../../errors.js';
import { estimatePrompts, type EstimateOptions, type VideoMetadata } from '../../tokenization/estimate.js';
import { VllmRenderClient } from '../../tokenization/vllm-render.js';
import { LocalTokenizer, type TokenizeTrace } from '../../tokenization/local-tokenizer.js';
import type { SegmentCacheStats } from '../../tokenization/segment-cache.js';
import type { SegmentEncoder } from '../../tokenization/native-encoder.js';
import { PooledEncoder } from '../../tokenization/pooled-encoder.js';
import { schema as parametersSchema, tokenProducerParams, type TokenProducerBackend } from './params.js';

export const TOKEN_PRODUCER = 'token-producer';
export const LEGACY_TOKEN_PRODUCER = 'tokenizer';

/** Counters a metrics layer reads (observability/tokenizer-metrics.ts). */
export interface TokenProducerStats {
  readonly backend: TokenProducerBackend['kind'];
  readonly tokenized: number;
  readonly failures: number;
  readonly tokens: number;
  /** Characters sent to the encoder (`local`): what the segment cache did not answer. */
  readonly encodedChars: number;
  readonly renderedChars: number;
  readonly cache: SegmentCacheStats | undefined;
}

function videoHeaders(headers: Readonly<Record<string, string>>): VideoMetadata {
  const num = (name: string) => {
    const v = Number.parseFloat(headers[name] ?? '');
    return Number.isFinite(v) && v > 0 ? v : undefined;
  };
  const res = /^\s*(\d+)\s*[xX]\s*(\d+)\s*$/.exec(headers['x-llm-d-video-resolution'] ?? '');
  const fps = num('x-llm-d-video-fps');
  const duration = num('x-llm-d-video-duration-seconds');
  return {
    ...(fps !== undefined ? { fps } : {}),
    ...(duration !== undefined ? { duration } : {}),
    ...(res && Number(res[1]) > 0 && Number(res[2]) > 0 ? { width: Number(res[1]), height: Number(res[2]) } : {}),
  };
}

/** Options the runtime may give (tests and the composition root): who encodes for `local`. */
export interface TokenProducerRuntime {
  readonly encoder?: SegmentEncoder;
}

export class TokenProducer implements DataProducer {
  readonly type: string;
  /** `local` encodes on the worker pool, so `--workers auto` starts threads for it. */
  readonly usesWorkerTasks: boolean;
  readonly produces = [TOKENIZED_PROMPT_KEY] as const;
  readonly consumes = [] as const;
  readonly backend: TokenProducerBackend;
  readonly local: LocalTokenizer | undefined;
  readonly #vllm: VllmRenderClient | undefined;
  readonly #estimate: EstimateOptions;
  readonly #warn: (m: string) => void;
  #lastWarnAt = -Infinity;
  #unwarned = 0;
  #tokenized = 0;
  #failures = 0;
  #tokens = 0;
  #encodedChars = 0;
  #renderedChars = 0;

  constructor(
    readonly name: string,
    backend: TokenProducerBackend,
    warn: (m: string) => void,
    runtime: TokenProducerRuntime = {},
    type: string = TOKEN_PRODUCER,
  ) {
    this.type = type;
    this.backend = backend;
    this.usesWorkerTasks = backend.kind === 'local';
    this.#warn = warn;
    this.#estimate = backend.kind === 'estimate' ? backend.estimate : {};
    this.#vllm = backend.kind === 'vllm' ? new VllmRenderClient(backend) : undefined;
    this.local = backend.kind === 'local' ? LocalTokenizer.load(backend.path, { cacheBytes: backend.cacheBytes, ...(runtime.encoder ? { encoder: runtime.encoder } : {}) }) : undefined;
  }

  get stats(): TokenProducerStats {
    return {
      backend: this.backend.kind,
      tokenized: this.#tokenized,
      failures: this.#failures,
      tokens: this.#tokens,
      encodedChars: this.#encodedChars,
      renderedChars: this.#renderedChars,
      cache: this.local?.cache.stats,
    };
  }

  produce(request: InferenceRequest, _candidates: readonly Endpoint[]): void | Promise<void> {
    if (request.tokenizedPrompt) return; // tokenized earlier (another producer, or ids the parser found)
    const { api, json } = request.body;
    if (api === 'passthrough' || !json) return;
    if (this.backend.kind === 'estimate') {
      const est = estimatePrompts(api, json, this.#estimate, videoHeaders(request.headers));
      if (est) this.#publish(request, est.prompts, est.exact);
      return;
    }
    return this.#tokenize(request, api, json);
  }

  async #tokenize(request: InferenceRequest, api: InferenceRequest['body']['api'], json: Readonly<Record<string, unknown>>): Promise<void> {
    try {
      let prompts: PromptTokens[] | undefined;
      if (this.local) {
        const trace: TokenizeTrace = { segments: 0, encodedSegments: 0, encodedChars: 0 };
        prompts = await this.local.tokenize(api, json, trace);
        this.#encodedChars += trace.encodedChars;
      } else {
        prompts = await this.#vllm!.render(api, json);
      }
      if (prompts) this.#publish(request, prompts, true);
    } catch (err) {
      this.#failures++;
      this.#warnLimited(`tokenization failed, the request goes on without tokens: ${(err as Error).message}`);
    }
  }

  #publish(request: InferenceRequest, prompts: readonly PromptTokens[], exact: boolean): void {
    const t: TokenizedPrompt = { prompts, cacheSalt: request.body.cacheSalt, exact };
    request.tokenizedPrompt = t;
    this.#tokenized++;
    for (const p of prompts) this.#tokens += p.tokenIds.length;
  }

  /** At most one warning every 10 s, counting the ones held back (a dead render endpoint fails every request). */
  #warnLimited(message: string): void {
    const now = performance.now();
    if (now - this.#lastWarnAt < 10_000) {
      this.#unwarned++;
      return;
    }
    this.#warn(this.#unwarned > 0 ? `${message} (and ${this.#unwarned} more failures since the last warning)` : message);
    this.#lastWarnAt = now;
    this.#unwarned = 0;
  }
}

export function isTokenProducer(p: unknown): p is TokenProducer {
  return p instanceof TokenProducer;
}

function factory(type: string) {
  return (name: string, parameters: unknown, handle: PluginHandle) => {
    const { backend, ignored } = tokenProducerParams(parameters);
    if (type === LEGACY_TOKEN_PRODUCER) handle.warn(`plugin type "${LEGACY_TOKEN_PRODUCER}" is deprecated; use "${TOKEN_PRODUCER}"`);
    if (ignored.length > 0) handle.warn(`'local' is set, so ${ignored.map((k) => `'${k}'`).join(' and ')} ${ignored.length > 1 ? 'are' : 'is'} ignored`);
    const pooled = backend.kind === 'local' ? new PooledEncoder(handle.services.workerTasks, backend.path) : undefined;
    let producer: TokenProducer;
    try {
      producer = new TokenProducer(name, backend, handle.warn, pooled ? { encoder: pooled } : {}, type);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError('parameters.local.path', (err as Error).message);
    }
    pooled?.warm().catch((err: Error) => handle.warn(`loading the tokenizer on the worker threads failed (the first requests will load it): ${err.message}`));
    return producer;
  };
}

export const registration: PluginRegistration = { type: TOKEN_PRODUCER, parameters: parametersSchema, factory: factory(TOKEN_PRODUCER) };
export const legacyRegistration: PluginRegistration = { type: LEGACY_TOKEN_PRODUCER, parameters: parametersSchema, factory: factory(LEGACY_TOKEN_PRODUCER) };
