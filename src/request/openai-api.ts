/**
 * OpenAI API detection and body validation for the openai-parser. The API comes from the request path;
 * every validation failure is an EppError with code BAD_REQUEST whose message names the field.
 */
import type { ApiKind } from '../framework/request.js';
import { EppError, ErrorCodes } from '../errors.js';

/** The APIs the openai-parser understands (every ApiKind except passthrough). */
export type OpenAiApi = Exclude<ApiKind, 'passthrough'>;

/** A validated body: the fields scheduling needs, plus the JSON object itself. */
export interface ValidatedBody {
  /** '' when absent (only conversations may omit it). */
  readonly model: string;
  readonly stream: boolean;
  readonly cacheSalt: string;
  readonly json: Readonly<Record<string, unknown>>;
}

const CONVERSATIONS = '/v1/conversations';

/**
 * The API a request path addresses. The query string (and fragment) is ignored, as is one trailing slash;
 * an unknown path is treated as completions, the Go EPP's fallback.
 */
export function apiFromPath(path: string): OpenAiApi {
  let p = path;
  const q = p.search(/[?#]/);
  if (q >= 0) p = p.slice(0, q);
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  switch (p) {
    case '/v1/completions':
      return 'completions';
    case '/v1/chat/completions':
      return 'chat-completions';
    case '/v1/responses':
      return 'responses';
    case '/v1/embeddings':
      return 'embeddings';
    case CONVERSATIONS:
      return 'conversations';
    default:
      return p.startsWith(CONVERSATIONS + '/') ? 'conversations' : 'completions';
  }
}

/** The paths apiFromPath knows; any other is read as completions. */
export const KNOWN_PATHS = ['/v1/completions', '/v1/chat/completions', '/v1/responses', '/v1/embeddings', '/v1/conversations'] as const;

/** True when `path` addresses an API by name (not the completions fallback). */
export function isKnownPath(path: string): boolean {
  const p = path.split(/[?#]/)[0]!.replace(/(.)\/$/, '$1');
  return (KNOWN_PATHS as readonly string[]).includes(p) || p.startsWith(CONVERSATIONS + '/');
}

function bad(message: string): EppError {
  return new EppError(ErrorCodes.BAD_REQUEST, message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Absent and JSON null both count as "not given" for optional and required fields alike. */
function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Validates a parsed JSON body for `api`; throws BAD_REQUEST naming the first offending field. */
export function validateBody(api: OpenAiApi, json: unknown): ValidatedBody {
  if (!isObject(json)) throw bad('request body must be a JSON object');

  let model = '';
  if (present(json.model)) {
    if (typeof json.model !== 'string' || json.model === '') throw bad('"model" must be a non-empty string');
    model = json.model;
  } else if (api !== 'conversations') {
    throw bad('model not found in request body');
  }

  switch (api) {
    case 'completions':
      if (typeof json.prompt !== 'string' && !Array.isArray(json.prompt)) throw bad('"prompt" must be a string or an array');
      break;
    case 'chat-completions': {
      const messages = json.messages;
      if (!Array.isArray(messages) || messages.length === 0) throw bad('"messages" must be a non-empty array');
      for (let i = 0; i < messages.length; i++) {
        if (!isObject(messages[i])) throw bad(`"messages[${i}]" must be an object`);
      }
      break;
    }
    case 'responses':
      if (typeof json.input !== 'string' && !Array.isArray(json.input)) throw bad('"input" must be a string or an array');
      break;
    case 'embeddings':
      if (!present(json.input)) throw bad('"input" not found in request body');
      break;
    case 'conversations':
      if (present(json.items) && !Array.isArray(json.items)) throw bad('"items" must be an array');
      break;
  }

  let stream = false;
  if (present(json.stream)) {
    if (typeof json.stream !== 'boolean') throw bad('"stream" must be a boolean');
    stream = json.stream;
  }
  let cacheSalt = '';
  if (present(json.cache_salt)) {
    if (typeof json.cache_salt !== 'string') throw bad('"cache_salt" must be a string');
    cacheSalt = json.cache_salt;
  }
  return { model, stream, cacheSalt, json };
}
