/**
 * The text prefix caching hashes for each OpenAI API, as UTF-8 bytes. Structured fields are hashed as
 * their JSON serialisation, so equal conversation prefixes give equal leading bytes.
 */
import type { OpenAiApi } from './openai-api.js';

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
