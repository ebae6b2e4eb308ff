/** The scheduling view of one LLM request, produced by the parser and the director. */

export type ApiKind = 'completions' | 'chat-completions' | 'responses' | 'conversations' | 'embeddings' | 'passthrough';

export interface RequestBody {
  readonly api: ApiKind;
  /** The parsed JSON body; undefined for passthrough. */
  readonly json?: Readonly<Record<string, unknown>>;
  /**
   * The text prefix caching sees (completions `prompt`; chat `messages` as JSON; …), as UTF-8 bytes.
   * Empty when the API has none.
   */
  readonly prefixText: Uint8Array;
  readonly cacheSalt: string;
  readonly stream: boolean;
}

/** The body view of a request the EPP does not read: header-only requests, the passthrough parser. */
export const UNREAD_BODY: RequestBody = Object.freeze({ api: 'passthrough', prefixText: new Uint8Array(0), cacheSalt: '', stream: false });

export interface InferenceRequest {
  readonly requestId: string;
  /** The model the client asked for (body `model`). */
  readonly incomingModel: string;
  /** The model the pod is asked to serve after rewrites (a LoRA adapter name, for example). */
  readonly targetModel: string;
  /** From the InferenceObjective; negative is sheddable. */
  readonly priority: number;
  readonly objective: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: RequestBody;
  /** Rough prompt size: bytes / 4. */
  readonly promptTokens: number;
  /**
   * The prompt's token ids, set by a token producer before scheduling (llm-d's `TokenizedPrompt`);
   * absent when nothing tokenized the request or tokenization failed.
   */
  tokenizedPrompt?: TokenizedPrompt;
}

/** Cycle-state / data key under which token producers publish (llm-d's name). */
export const TOKENIZED_PROMPT_KEY = 'TokenizedPrompt';

/** One multimodal item's placeholder run inside a prompt's token ids. */
export interface MultiModalFeature {
  readonly modality: string;
  readonly hash: string;
  /** Index of the first placeholder token in `tokenIds`. */
  readonly offset: number;
  readonly length: number;
}

export interface PromptTokens {
  readonly tokenIds: Uint32Array;
  /** Ordered by offset; absent when the prompt has no multimodal content. */
  readonly multiModalFeatures?: readonly MultiModalFeature[];
}

/** The result of tokenizing a request (llm-d's TokenizedRequest). */
export interface TokenizedPrompt {
  /** One entry per prompt: chat and single-string completions have one; string-array completions one per string. */
  readonly prompts: readonly PromptTokens[];
  readonly cacheSalt: string;
  /**
   * True when the ids are the model's own tokens (a real tokenizer, a render endpoint, or ids the client
   * sent); false for `estimate`'s byte-packed pseudo-tokens, which only stand in for content.
   */
  readonly exact: boolean;
}

/** Tokens over all prompts. */
export function tokenCount(t: TokenizedPrompt): number {
  let n = 0;
  for (const p of t.prompts) n += p.tokenIds.length;
  return n;
}

/** The request's prompt size in tokens: the real count when a tokenizer produced one, else the estimate. */
export function promptTokenCount(request: InferenceRequest): number {
  const t = request.tokenizedPrompt;
  return t && t.exact ? tokenCount(t) : request.promptTokens;
}
