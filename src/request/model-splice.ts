/**
 * Replaces the value of the top-level `"model"` key of a JSON object body without re-serialising the rest:
 * every byte outside the old value's string literal is kept as it was.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipWs(b: Uint8Array, i: number): number {
  while (i < b.length && isWs(b[i]!)) i++;
  return i;
}

/** `b[i]` is an opening quote; returns the index just past the closing quote, or -1 if unterminated. */
function skipString(b: Uint8Array, i: number): number {
  i++;
  while (i < b.length) {
    const c = b[i]!;
    if (c === BACKSLASH) i += 2;
    else if (c === QUOTE) return i + 1;
    else i++;
  }
  return -1;
}

/** Returns the index just past the value starting at `b[i]`, or -1 when the bytes are malformed. */
function skipValue(b: Uint8Array, i: number): number {
  if (i >= b.length) return -1;
  const c = b[i]!;
  if (c === QUOTE) return skipString(b, i);
  if (c === LBRACE || c === LBRACKET) {
    let depth = 0;
    while (i < b.length) {
      const d = b[i]!;
      if (d === QUOTE) {
        i = skipString(b, i);
        if (i < 0) return -1;
        continue;
      }
      if (d === LBRACE || d === LBRACKET) depth++;
      else if (d === RBRACE || d === RBRACKET) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  // A scalar (number, true, false, null): up to the next delimiter.
  const start = i;
  while (i < b.length) {
    const d = b[i]!;
    if (d === COMMA || d === RBRACE || d === RBRACKET || isWs(d)) break;
    i++;
  }
  return i > start ? i : -1;
}

const MODEL_KEY = encoder.encode('model');

/** True when the key literal `b[start, end)` (quotes included) denotes `model`, escapes decoded. */
function isModelKey(b: Uint8Array, start: number, end: number): boolean {
  const inner = b.subarray(start + 1, end - 1);
  if (inner.includes(BACKSLASH)) {
    try {
      return JSON.parse(decoder.decode(b.subarray(start, end))) === 'model';
    } catch {
      return false;
    }
  }
  if (inner.length !== MODEL_KEY.length) return false;
  for (let k = 0; k < inner.length; k++) if (inner[k] !== MODEL_KEY[k]) return false;
  return true;
}

/**
 * The byte range `[start, end)` of the string literal (quotes included) that is the value of the last
 * top-level `model` key — the one JSON.parse keeps. Undefined when the body is not an object, has no
 * top-level `model`, or that model is not a string.
 */
export function findModelValue(body: Uint8Array): { start: number; end: number } | undefined {
  let i = 0;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) i = 3; // UTF-8 BOM
  i = skipWs(body, i);
  if (body[i] !== LBRACE) return undefined;
  i = skipWs(body, i + 1);
  if (body[i] === RBRACE) return undefined;
  let found: { start: number; end: number } | undefined;
  for (;;) {
    if (body[i] !== QUOTE) return undefined;
    const keyStart = i;
    const keyEnd = skipString(body, i);
    if (keyEnd < 0) return undefined;
    i = skipWs(body, keyEnd);
    if (body[i] !== COLON) return undefined;
    const valueStart = skipWs(body, i + 1);
    const valueEnd = skipValue(body, valueStart);
    if (valueEnd < 0) return undefined;
    if (isModelKey(body, keyStart, keyEnd)) {
      found = body[valueStart] === QUOTE ? { start: valueStart, end: valueEnd } : undefined;
    }
    i = skipWs(body, valueEnd);
    if (body[i] === COMMA) {
      i = skipWs(body, i + 1);
      continue;
    }
    if (body[i] === RBRACE) return found;
    return undefined;
  }
}

/**
 * `body` with the top-level `"model"` string value replaced by `JSON.stringify(newModel)`; undefined when
 * there is no top-level string `model` (the caller then re-serialises the parsed body).
 */
export function spliceModel(body: Uint8Array, newModel: string): Uint8Array | undefined {
  const range = findModelValue(body);
  if (!range) return undefined;
  const value = encoder.encode(JSON.stringify(newModel));
  const out = new Uint8Array(body.length - (range.end - range.start) + value.length);
  out.set(body.subarray(0, range.start), 0);
  out.set(value, range.start);
  out.set(body.subarray(range.end), range.start + value.length);
  return out;
}
