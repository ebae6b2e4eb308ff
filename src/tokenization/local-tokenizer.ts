/**
 * Tokenizes OpenAI request bodies with the model's own tokenizer files, as the vLLM server serving the
 * model would: chat through the model's chat template (no special tokens added, vLLM's chat default),
 * completions and embeddings as text with the post-processor's special tokens (vLLM's default for
 * those), token-id prompts passed through.
 *
 * Text is cut into segments at special tokens (segmenter.ts) and each segment's ids come from a cache
 * keyed by its text, so a conversation that grows by one turn only encodes the new turn; the encoding of
 * missing segments goes to a `SegmentEncoder` (in-process, or a worker pool).
 */
import type { ApiKind, PromptTokens } from '../framework/request.js';
import { readModelFiles, type ModelFiles } from './model-files.js';
import { Segmenter } from './segmenter.js';
import { SegmentCache } from './segment-cache.js';
import { ChatTemplate, chatRenderInput } from './chat-template.js';
import { NativeEncoder, type SegmentEncoder } from './native-encoder.js';

export const DEFAULT_SEGMENT_CACHE_BYTES = 256 * 1024 * 1024;

export interface LocalTokenizerOptions {
  /** Bound of the segment cache in bytes (0 turns it off). */
  readonly cacheBytes?: number;
  /** Who encodes missing segments; by default a native tokenizer in this thread. */
  readonly encoder?: SegmentEncoder;
}

/** Work done for one prompt, for metrics and benchmarks. */
export interface TokenizeTrace {
  segments: number;
  encodedSegments: number;
  encodedChars: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTokenIds = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x >= 0);

function concat(parts: readonly Uint32Array[], prefix: readonly number[], suffix: readonly number[]): Uint32Array {
  let n = prefix.length + suffix.length;
  for (const p of parts) n += p.length;
  const out = new Uint32Array(n);
  out.set(prefix, 0);
  let at = prefix.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  out.set(suffix, at);
  return out;
}

export class LocalTokenizer {
  readonly files: ModelFiles;
  readonly segmenter: Segmenter;
  readonly cache: SegmentCache;
  readonly #encoder: SegmentEncoder;
  readonly #template: ChatTemplate | undefined;

  constructor(files: ModelFiles, options: LocalTokenizerOptions = {}) {
    this.files = files;
    this.segmenter = new Segmenter(files.addedTokens);
    this.cache = new SegmentCache(options.cacheBytes ?? DEFAULT_SEGMENT_CACHE_BYTES);
    this.#encoder = options.encoder ?? new NativeEncoder(files.tokenizerJson);
    this.#template = files.chatTemplate === undefined ? undefined : new ChatTemplate(files.chatTemplate, files.templateTokens);
  }

  /** Reads the model folder `dir`; throws an Error naming the file at fault. */
  static load(dir: string, options: LocalTokenizerOptions = {}): LocalTokenizer {
    return new LocalTokenizer(readModelFiles(dir), options);
  }

  get canRenderChat(): boolean {
    return this.#template !== undefined;
  }

  /** The chat prompt text the model server would build from a chat-completions body. */
  renderChat(json: Readonly<Record<string, unknown>>): string {
    if (!this.#template) throw new Error(`${this.files.dir} has no chat template (tokenizer_config.json "chat_template" or chat_template.jinja)`);
    return this.#template.render(chatRenderInput(json));
  }

  /** The ids of `text`, segment by segment through the cache; special tokens around it when asked. */
  async encodeText(text: string, addSpecialTokens: boolean, trace?: TokenizeTrace): Promise<Uint32Array> {
    const segments = this.segmenter.split(text);
    const parts: Uint32Array[] = new Array(segments.length);
    const missing: number[] = [];
    for (let i = 0; i < segments.length; i++) {
      const hit = this.cache.get(segments[i]!);
      if (hit) parts[i] = hit;
      else missing.push(i);
    }
    if (missing.length > 0) {
      const texts = missing.map((i) => segments[i]!);
      const encoded = await this.#encoder.encode(texts);
      missing.forEach((i, k) => {
        parts[i] = encoded[k]!;
        this.cache.set(segments[i]!, encoded[k]!);
      });
      if (trace) {
        trace.encodedSegments += missing.length;
        for (const t of texts) trace.encodedChars += t.length;
      }
    }
    if (trace) trace.segments += segments.length;
    return addSpecialTokens ? concat(parts, this.files.specialPrefix, this.files.specialSuffix) : concat(parts, [], []);
  }

  /**
   * The prompts of a request body for `api`; undefined for APIs vLLM has no render for (responses,
   * conversations) or a body without a prompt. Throws when the body cannot be rendered.
   */
  async tokenize(api: ApiKind, json: Readonly<Record<string, unknown>>, trace?: TokenizeTrace): Promise<PromptTokens[] | undefined> {
    switch (api) {
      case 'chat-completions': {
        const add = json.add_special_tokens === true;
        return [{ tokenIds: await this.encodeText(this.renderChat(json), add, trace) }];
      }
      case 'completions':
        return this.#textOrIds(json.prompt, json.add_special_tokens !== false, trace);
      case 'embeddings':
        return this.#textOrIds(json.input, json.add_special_tokens !== false, trace);
      default:
        return undefined;
    }
  }

  /** A string, a list of strings, a list of ids or a list of id lists: one prompt each. */
  async #textOrIds(value: unknown, addSpecialTokens: boolean, trace?: TokenizeTrace): Promise<PromptTokens[] | undefined> {
    if (typeof value === 'string') return [{ tokenIds: await this.encodeText(value, addSpecialTokens, trace) }];
    if (isTokenIds(value)) return [{ tokenIds: Uint32Array.from(value) }];
    if (!Array.isArray(value) || value.length === 0) return undefined;
    const out: PromptTokens[] = [];
    for (const item of value) {
      if (typeof item === 'string') out.push({ tokenIds: await this.encodeText(item, addSpecialTokens, trace) });
      else if (isTokenIds(item)) out.push({ tokenIds: Uint32Array.from(item) });
      else if (!isObject(item)) return undefined;
    }
    return out.length > 0 ? out : undefined;
  }
}
