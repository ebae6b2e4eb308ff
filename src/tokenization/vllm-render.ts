/**
 * llm-d's `vllm` backend (dp/tokenizer/vllm_http.go): the client's own JSON body, `model` set to the
 * configured model name, POSTed to `{url}/v1/chat/completions/render` (answer: `{token_ids, features?}`)
 * or `{url}/v1/completions/render` (answer: an array of `{token_ids}`, one per prompt). Served by
 * `vllm serve` and the GPU-less `vllm launch render`. A non-2xx answer is an error carrying the status
 * and the first KiB of the body; `timeout` applies to text, `mmTimeout` when a message's content is a
 * list of parts.
 */
import type { ApiKind, MultiModalFeature, PromptTokens } from '../framework/request.js';

export const DEFAULT_VLLM_URL = 'http://localhost:8000';
export const DEFAULT_VLLM_TIMEOUT_MS = 5000;
export const DEFAULT_VLLM_MM_TIMEOUT_MS = 30_000;
export const CHAT_RENDER_PATH = '/v1/chat/completions/render';
export const COMPLETIONS_RENDER_PATH = '/v1/completions/render';

const MAX_ERROR_SNIPPET = 1024;

export interface VllmRenderOptions {
  readonly url: string;
  readonly modelName: string;
  readonly timeoutMs: number;
  readonly mmTimeoutMs: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTokenIds = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x >= 0);

function idsOf(v: unknown, what: string): Uint32Array {
  if (!Array.isArray(v)) throw new Error(`vLLM render answer: ${what}.token_ids is not a list`);
  return Uint32Array.from(v as number[]);
}

/** vLLM's `features` ({mm_hashes: {modality: [hash]}, mm_placeholders: {modality: [{offset, length}]}}) as a flat, offset-ordered list. */
export function featuresOf(features: unknown): MultiModalFeature[] | undefined {
  if (!isObject(features) || !isObject(features.mm_hashes) || !isObject(features.mm_placeholders)) return undefined;
  const out: MultiModalFeature[] = [];
  for (const [modality, hashes] of Object.entries(features.mm_hashes)) {
    const ranges = features.mm_placeholders[modality];
    if (!Array.isArray(hashes) || !Array.isArray(ranges)) continue;
    for (let i = 0; i < Math.min(hashes.length, ranges.length); i++) {
      const r = ranges[i];
      if (isObject(r)) out.push({ modality, hash: String(hashes[i]), offset: Number(r.offset), length: Number(r.length) });
    }
  }
  out.sort((a, b) => a.offset - b.offset);
  return out.length > 0 ? out : undefined;
}

export class VllmRenderClient {
  readonly #o: VllmRenderOptions;

  constructor(options: VllmRenderOptions) {
    this.#o = { ...options, url: options.url.replace(/\/+$/, '') };
  }

  get url(): string {
    return this.#o.url;
  }

  /**
   * The prompts of a body for `api`: token-id prompts pass through without a call; undefined for APIs
   * without a render endpoint (responses, conversations, embeddings). Rejects on transport errors,
   * timeouts and non-2xx answers.
   */
  async render(api: ApiKind, json: Readonly<Record<string, unknown>>): Promise<PromptTokens[] | undefined> {
    if (api === 'completions') {
      if (isTokenIds(json.prompt)) return [{ tokenIds: Uint32Array.from(json.prompt) }];
      const answer = await this.#post(COMPLETIONS_RENDER_PATH, json, this.#o.timeoutMs);
      if (!Array.isArray(answer) || answer.length === 0) throw new Error('vLLM render returned an empty answer');
      return answer.map((a, i) => ({ tokenIds: idsOf(isObject(a) ? a.token_ids : undefined, `[${i}]`) }));
    }
    if (api === 'chat-completions') {
      const multimodal = Array.isArray(json.messages) && json.messages.some((m) => isObject(m) && Array.isArray(m.content) && m.content.length > 0);
      const answer = await this.#post(CHAT_RENDER_PATH, json, multimodal ? this.#o.mmTimeoutMs : this.#o.timeoutMs);
      if (!isObject(answer)) throw new Error('vLLM render answer is not a JSON object');
      const features = featuresOf(answer.features);
      return [features ? { tokenIds: idsOf(answer.token_ids, 'answer'), multiModalFeatures: features } : { tokenIds: idsOf(answer.token_ids, 'answer') }];
    }
    return undefined;
  }

  async #post(path: string, json: Readonly<Record<string, unknown>>, timeoutMs: number): Promise<unknown> {
    const res = await fetch(this.#o.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...json, model: this.#o.modelName }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (res.status < 200 || res.status >= 300) throw new Error(`vLLM render returned status ${res.status}: ${text.slice(0, MAX_ERROR_SNIPPET)}`);
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new Error(`vLLM render answer is not JSON: ${(err as Error).message}`);
    }
  }
}
