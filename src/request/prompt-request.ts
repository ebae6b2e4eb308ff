/**
 * The scheduling view of a completions request built straight from its prompt: what the OpenAI parser
 * produces for `{"model", "prompt"}` bodies, for callers that start from a prompt (demo, benchmarks, tests).
 */
import type { InferenceRequest } from '../framework/request.js';

const encoder = new TextEncoder();

export interface PromptRequestOptions {
  readonly requestId: string;
  readonly model: string;
  /** The model the pod is asked for after rewrites; defaults to `model`. */
  readonly targetModel?: string;
  readonly cacheSalt?: string;
  readonly priority?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export function promptRequest(prompt: string, o: PromptRequestOptions): InferenceRequest {
  const prefixText = encoder.encode(prompt);
  return {
    requestId: o.requestId,
    incomingModel: o.model,
    targetModel: o.targetModel ?? o.model,
    priority: o.priority ?? 0,
    objective: '',
    headers: o.headers ?? {},
    body: { api: 'completions', json: { model: o.model, prompt }, prefixText, cacheSalt: o.cacheSalt ?? '', stream: false },
    promptTokens: Math.ceil(prefixText.length / 4),
  };
}
