/**
 * The text prefix caching hashes for each OpenAI API, as UTF-8 bytes. Structured fields are hashed as
 * their JSON serialisation, so equal conversation prefixes give equal leading bytes.
 *
 * The serialisation is the request's own bytes (`prefixRanges` → `prefixFromRanges`): the body already holds `messages` (or
 * `prompt`, `input`, `items`) serialised, and re-serialising it costs more than everything else a request
 * does (JSON.stringify of a 400 KB conversation: ~2 ms, against ~0.5 ms to parse it). For a compactly
 * serialised body the bytes are exactly what `prefixTextString` gives; a client that pretty-prints gets
 * its own consistent bytes, which is all prefix matching needs.
 */
import type { OpenAiApi } from './openai-api.js';
import { topLevelValues, type Range } from './json-scan.js';

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** `undefined` → null so a missing field still occupies its slot in the serialised tuple. */
const orNull = (v: unknown): unknown => (v === undefined ? null : v);

/** The prefix text of a validated body (see openai-api.ts for what each API requires). */
export function prefixTextString(api: OpenAiApi, json: Readonly<Record<string, unknown>>): string {
  switch (api) {
    case 'completions':
      return typeof json.prompt === 'string' ? json.prompt : JSON.stringify(orNull(json.prompt));
    case 'chat-completions':
      return JSON.stringify(orNull(json.messages));
    case 'responses':
      return JSON.stringify([orNull(json.instructions), orNull(json.tools), orNull(json.input)]);
    case 'conversations':
      return json.items === undefined || json.items === null ? '' : JSON.stringify(json.items);
    case 'embeddings':
      return typeof json.input === 'string' ? json.input : JSON.stringify(orNull(json.input));
  }
}

/** `prefixTextString` as UTF-8 bytes; empty when the API has no prefix text (conversations without items). */
export function prefixText(api: OpenAiApi, json: Readonly<Record<string, unknown>>): Uint8Array {
  const s = prefixTextString(api, json);
  return s === '' ? EMPTY : encoder.encode(s);
}

const FIELDS: Record<OpenAiApi, readonly string[]> = {
  completions: ['prompt'],
  'chat-completions': ['messages'],
  responses: ['instructions', 'tools', 'input'],
  conversations: ['items'],
  embeddings: ['input'],
};
const NULL = Buffer.from('null');

/**
 * Where the prefix bytes lie in the body: one range per field of the API (undefined for a missing one),
 * string values without their quotes. Plain numbers, so a worker can compute them and send them back.
 * Undefined when the body could not be scanned (not expected once JSON.parse accepted it).
 */
export function prefixRanges(api: OpenAiApi, body: Uint8Array): (Range | undefined)[] | undefined {
  const found = topLevelValues(body, FIELDS[api]);
  if (!found) return undefined;
  return FIELDS[api].map((key) => {
    const r = found.get(key);
    if (!r) return undefined;
    const unquote = (api === 'completions' || api === 'embeddings') && body[r.start] === 0x22;
    return unquote ? { start: r.start + 1, end: r.end - 1 } : r;
  });
}

/** The prefix bytes from `prefixRanges`: slices of the body (a copy only for the Responses API's tuple). */
export function prefixFromRanges(api: OpenAiApi, body: Uint8Array, ranges: readonly (Range | undefined)[]): Uint8Array {
  const slice = (r: Range | undefined) => r && body.subarray(r.start, r.end);
  switch (api) {
    case 'completions':
    case 'embeddings':
    case 'conversations':
      return slice(ranges[0]) ?? EMPTY;
    case 'chat-completions':
      return slice(ranges[0]) ?? NULL;
    case 'responses': {
      const [a, b, c] = ranges.map((r) => slice(r) ?? NULL);
      return Buffer.concat([Buffer.from('['), a!, Buffer.from(','), b!, Buffer.from(','), c!, Buffer.from(']')]);
    }
  }
}
