/** Reading the golden ext_proc messages and comparing decoded messages with them. */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

// Envoy-encoded messages (copied from the shared reference's golden set into test/golden).
export const GOLDEN = fileURLToPath(new URL('../../../test/golden/', import.meta.url));
const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** The golden JSON in protobufjs's shape: camelCase keys and oneof case names (map keys are left alone). */
export function normalise(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (value && typeof value === 'object') {
    const isMap = key === 'filterMetadata' || key === 'fields';
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [isMap ? k : camel(k), normalise(v, isMap ? '' : camel(k))]));
  }
  if (['request', 'response', 'mutation'].includes(key) && typeof value === 'string') return camel(value);
  return value;
}

const isDefault = (v: unknown) => v === false || v === 0 || v === '' || v === 'CONTINUE' || (Array.isArray(v) && v.length === 0);

/** Every field the golden message has is in `got` with the same value (proto3 defaults may be absent). */
export function assertHas(got: unknown, want: unknown, at: string): void {
  if (want && typeof want === 'object' && !Array.isArray(want)) {
    for (const [k, v] of Object.entries(want)) {
      const g = (got as Record<string, unknown> | undefined)?.[k];
      if (g === undefined && isDefault(v)) continue;
      assertHas(g, v, `${at}.${k}`);
    }
  } else if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${at}: want a list`);
    assert.equal(got.length, want.length, `${at}: length`);
    want.forEach((w, i) => assertHas(got[i], w, `${at}[${i}]`));
  } else {
    assert.equal(got, want, at);
  }
}

export const toObjectOptions = { enums: String, bytes: String, oneofs: true, longs: String } as const;
