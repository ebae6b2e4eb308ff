import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { ProcessingRequestType, ProcessingResponseType } from '../../src/extproc/codec.js';
import { assertHas, GOLDEN, normalise, toObjectOptions } from '../helpers/golden.js';


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
