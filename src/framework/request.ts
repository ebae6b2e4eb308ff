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
}
