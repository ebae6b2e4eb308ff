/**
 * Finds the byte ranges of chosen top-level values of a JSON object body without parsing it, so the
 * bytes can be used as they are (prefix hashing) or replaced (model rewrite). Strings are skipped with a
 * native byte search for the closing quote, so a 400 KB prompt costs a few searches, not a JS loop over
 * every byte. The body must already be known to be valid JSON (the parser checked it); on malformed input
 * the functions return undefined rather than a wrong range.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

export interface Range {
  readonly start: number;
  readonly end: number;
}

const asBuffer = (b: Uint8Array) => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const isWs = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function skipWs(b: Buffer, i: number): number {
  while (i < b.length && isWs(b[i]!)) i++;
  return i;
}

/** `b[i]` is an opening quote; the index just past the closing quote, or -1 if unterminated. */
function skipString(b: Buffer, i: number): number {
  for (let q = b.indexOf(QUOTE, i + 1); q >= 0; q = b.indexOf(QUOTE, q + 1)) {
    let slashes = 0;
    while (b[q - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q + 1; // an even run of backslashes escapes itself, not the quote
  }
  return -1;
}

/** The index just past the value starting at `b[i]`, or -1 when the bytes are malformed. */
function skipValue(b: Buffer, i: number): number {
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
  const start = i; // a scalar (number, true, false, null): up to the next delimiter
  while (i < b.length) {
    const d = b[i]!;
    if (d === COMMA || d === RBRACE || d === RBRACKET || isWs(d)) break;
    i++;
  }
  return i > start ? i : -1;
}

/** The key literal `b[start, end)` (quotes included), decoded. */
function keyText(b: Buffer, start: number, end: number): string {
  const inner = b.subarray(start + 1, end - 1);
  if (!inner.includes(BACKSLASH)) return inner.toString('utf8');
  try {
    return JSON.parse(b.toString('utf8', start, end)) as string;
  } catch {
    return '';
  }
}

/**
 * Ranges of the values of `keys` in the top-level object of `body` (the last occurrence of a key wins, as
 * with JSON.parse). Undefined when the body is not a well-formed object.
 */
export function topLevelValues(body: Uint8Array, keys: readonly string[]): Map<string, Range> | undefined {
  const b = asBuffer(body);
  const wanted = new Set(keys);
  const found = new Map<string, Range>();
  let i = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3; // UTF-8 BOM
  i = skipWs(b, i);
  if (b[i] !== LBRACE) return undefined;
  i = skipWs(b, i + 1);
  if (b[i] === RBRACE) return found;
  for (;;) {
    if (b[i] !== QUOTE) return undefined;
    const keyStart = i;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0) return undefined;
    i = skipWs(b, keyEnd);
    if (b[i] !== COLON) return undefined;
    const valueStart = skipWs(b, i + 1);
    const valueEnd = skipValue(b, valueStart);
    if (valueEnd < 0) return undefined;
    const key = keyText(b, keyStart, keyEnd);
    if (wanted.has(key)) found.set(key, { start: valueStart, end: valueEnd });
    i = skipWs(b, valueEnd);
    if (b[i] === COMMA) {
      i = skipWs(b, i + 1);
      continue;
    }
    return b[i] === RBRACE ? found : undefined;
  }
}
