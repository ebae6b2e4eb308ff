/**
 * The text prefix caching hashes for each OpenAI API, as UTF-8 bytes. Structured fields are hashed as
 * their JSON serialisation, so equal conversation prefixes give equal leading bytes.
 *
 * The serialisation is the request's own bytes (`prefixBytes`): the body already holds `messages` (or
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

/** The prefix bytes of a validated body, sliced from the body itself (see the module comment). */
export function prefixBytes(api: OpenAiApi, json: Readonly<Record<string, unknown>>, body: Uint8Array): Uint8Array {
  const ranges = topLevelValues(body, FIELDS[api]);
  if (!ranges) return prefixText(api, json); // not expected for a body JSON.parse accepted
  const raw = (key: string): Uint8Array | undefined => {
    const r = ranges.get(key);
    return r && body.subarray(r.start, r.end);
  };
  /** A string value's contents without its quotes (escapes kept as written). */
  const text = (r: Range) => (body[r.start] === 0x22 ? body.subarray(r.start + 1, r.end - 1) : body.subarray(r.start, r.end));
  switch (api) {
    case 'completions':
    case 'embeddings': {
      const r = ranges.get(FIELDS[api][0]!);
      return r ? text(r) : EMPTY;
    }
    case 'chat-completions':
      return raw('messages') ?? NULL;
    case 'conversations':
      return raw('items') ?? EMPTY;
    case 'responses': {
      const parts = FIELDS.responses.map((k) => raw(k) ?? NULL);
      return Buffer.concat([Buffer.from('['), parts[0]!, Buffer.from(','), parts[1]!, Buffer.from(','), parts[2]!, Buffer.from(']')]);
    }
  }
}
