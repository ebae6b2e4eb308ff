import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProcessingRequestType, ProcessingResponseType } from '../../src/extproc/codec.js';

// Envoy-encoded messages (copied from the shared reference's golden set into test/golden).
const GOLDEN = fileURLToPath(new URL('../../../test/golden/', import.meta.url));
const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** The golden JSON in protobufjs's shape: camelCase keys and oneof case names (map keys are left alone). */
function normalise(value: unknown, key = ''): unknown {
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
function assertHas(got: unknown, want: unknown, at: string): void {
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

const toObjectOptions = { enums: String, bytes: String, oneofs: true, longs: String } as const;
const files = readdirSync(GOLDEN).filter((f) => f.endsWith('.bin')).map((f) => f.slice(0, -4));

test('golden files are all here (a missing one would silently shrink this suite)', () => {
  assert.deepEqual(files.sort(), [
    'body_response', 'immediate_response', 'request_body', 'request_headers', 'request_trailers',
    'response_body', 'response_headers', 'response_trailers_response', 'route_response',
  ]);
});

for (const name of files) {
  const type = name.startsWith('request_') || name === 'response_headers' || name === 'response_body' ? ProcessingRequestType : ProcessingResponseType;
  test(`golden ${name}: decodes to Envoy's fields and re-encodes to the same fields`, () => {
    const want = normalise(JSON.parse(readFileSync(`${GOLDEN}${name}.json`, 'utf8')));
    const decoded = type.decode(readFileSync(`${GOLDEN}${name}.bin`));
    assertHas(type.toObject(decoded, toObjectOptions), want, name);
    const again = type.decode(type.encode(type.fromObject(type.toObject(decoded, toObjectOptions))).finish());
    assertHas(type.toObject(again, toObjectOptions), want, `${name} (re-encoded)`);
  });
}
