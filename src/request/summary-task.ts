/**
 * The body summary as a named worker task (src/pool/parse-offload.ts sends large bodies here): the same
 * function runs on a worker thread and, when the pool cannot take it, inline.
 */
import { summarizeOpenAiBody, type BodySummary } from './openai-summary.js';

export interface SummaryInput {
  readonly path: string;
  readonly body: Uint8Array;
}

export const SUMMARY_TASK = { module: new URL('./summary-task.js', import.meta.url).href, name: 'summarizeBody' } as const;

export function summarizeBody(input: SummaryInput): BodySummary {
  return summarizeOpenAiBody(input.path, input.body).summary;
}
