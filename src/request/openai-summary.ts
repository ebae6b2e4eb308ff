/**
 * Everything the openai-parser learns from a body, in a form that can cross a thread boundary: the API,
 * model, stream flag, cache salt and where the prefix bytes lie (ranges, not bytes). The parser runs it
 * inline; the parse worker runs the same function, so both paths give the same answer by construction.
 */
import type { ParsedRequest } from '../framework/parser.js';
import { EppError, ErrorCodes } from '../errors.js';
import { apiFromPath, isKnownPath, KNOWN_PATHS, validateBody, type OpenAiApi } from './openai-api.js';
import type { Range } from './json-scan.js';
import { prefixFromRanges, prefixRanges, prefixText } from './prefix-text.js';

export interface BodySummary {
  readonly api: OpenAiApi;
  readonly model: string;
  readonly stream: boolean;
  readonly cacheSalt: string;
  /** Undefined when the body could not be scanned; the prefix then comes from the parsed JSON. */
  readonly prefixRanges: readonly (Range | undefined)[] | undefined;
}

const decoder = new TextDecoder();

export function parseJsonBody(body: Uint8Array): unknown {
  if (body.length === 0) throw new EppError(ErrorCodes.BAD_REQUEST, 'request body is empty');
  try {
    return JSON.parse(decoder.decode(body));
  } catch (err) {
    throw new EppError(ErrorCodes.BAD_REQUEST, `invalid JSON body: ${jsonProblem(err)}`);
  }
}

/**
 * Where JSON.parse failed, without its words: V8's message may quote an excerpt of the body (the prompt),
 * and this message reaches logs and metrics. Only the position survives.
 */
export function jsonProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  if (/unexpected end/i.test(message) || /unterminated/i.test(message)) return 'the body ends before the JSON does';
  const at = /position (\d+)/.exec(message);
  return at ? `not valid JSON at character ${at[1]}` : 'not valid JSON';
}

/** Parses and validates; throws an EppError (BAD_REQUEST) naming the problem. */
export function summarizeOpenAiBody(path: string, body: Uint8Array): { summary: BodySummary; json: Readonly<Record<string, unknown>> } {
  const api = apiFromPath(path);
  const json = parseJsonBody(body);
  let v: ReturnType<typeof validateBody>;
  try {
    v = validateBody(api, json);
  } catch (err) {
    // An unknown path is read as completions (the Go EPP's fallback); when that fails, say so about the path.
    if (err instanceof EppError && !isKnownPath(path)) throw new EppError(err.code, `unknown path ${JSON.stringify(path.split(/[?#]/)[0])} (known: ${KNOWN_PATHS.join(', ')}); read as completions: ${err.message}`);
    throw err;
  }
  return { summary: { api, model: v.model, stream: v.stream, cacheSalt: v.cacheSalt, prefixRanges: prefixRanges(api, body) }, json: v.json };
}

/**
 * The scheduling view of a summarised body. `json` is absent when the summary came from a worker; the
 * body's `json` is then parsed on first read only (a token producer reads it; the default path does not).
 */
export function parsedFromSummary(body: Uint8Array, s: BodySummary, json?: Readonly<Record<string, unknown>>): ParsedRequest {
  const prefix = s.prefixRanges ? prefixFromRanges(s.api, body, s.prefixRanges) : prefixText(s.api, json ?? (parseJsonBody(body) as Record<string, unknown>));
  if (json) return { model: s.model, body: { api: s.api, json, prefixText: prefix, cacheSalt: s.cacheSalt, stream: s.stream } };
  let parsed: Readonly<Record<string, unknown>> | undefined;
  const lazy = {
    api: s.api,
    get json(): Readonly<Record<string, unknown>> {
      return (parsed ??= parseJsonBody(body) as Record<string, unknown>);
    },
    prefixText: prefix,
    cacheSalt: s.cacheSalt,
    stream: s.stream,
  };
  return { model: s.model, body: lazy };
}
