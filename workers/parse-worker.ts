/**
 * Piscina entry: summarises one OpenAI request body off the main thread (JSON.parse, validation, prefix
 * ranges). Errors come back as values, since an Error's `code` does not survive the thread boundary.
 */
import { EppError } from '../src/errors.js';
import { summarizeOpenAiBody, type BodySummary } from '../src/request/openai-summary.js';

export interface ParseTask {
  readonly path: string;
  readonly body: Uint8Array;
}

export type ParseTaskResult = { readonly ok: true; readonly summary: BodySummary } | { readonly ok: false; readonly code: string; readonly message: string };

export default function parse(task: ParseTask): ParseTaskResult {
  try {
    return { ok: true, summary: summarizeOpenAiBody(task.path, task.body).summary };
  } catch (err) {
    if (err instanceof EppError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}
