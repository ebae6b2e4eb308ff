/**
 * Replaces the value of the top-level `"model"` key of a JSON object body without re-serialising the rest:
 * every byte outside the old value's string literal is kept as it was.
 */

import { topLevelValues, type Range } from './json-scan.js';

const encoder = new TextEncoder();

/**
 * The byte range `[start, end)` of the string literal (quotes included) that is the value of the last
 * top-level `model` key — the one JSON.parse keeps. Undefined when the body is not an object, has no
 * top-level `model`, or that model is not a string.
 */
export function findModelValue(body: Uint8Array): Range | undefined {
  const range = topLevelValues(body, ['model'])?.get('model');
  return range && body[range.start] === 0x22 /* a string */ ? range : undefined;
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
