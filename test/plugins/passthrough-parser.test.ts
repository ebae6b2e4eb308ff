import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registration, PassthroughParser } from '../../src/plugins/passthrough-parser/index.js';
import { isRequestParser } from '../../src/framework/parser.js';
import { testHandle } from '../helpers/fixtures.js';

const parser = registration.factory('pt', undefined, testHandle()) as PassthroughParser;
const enc = (s: string) => new TextEncoder().encode(s);

test('registration', () => {
  assert.equal(registration.type, 'passthrough-parser');
  assert.equal(registration.takesNoParameters, true);
  assert.equal(parser.type, 'passthrough-parser');
  assert.equal(parser.name, 'pt');
  assert.ok(isRequestParser(parser));
});

test('parse and rewriteModel ignore the body (table)', () => {
  const cases: { name: string; path: string; body: Uint8Array }[] = [
    { name: 'valid OpenAI body', path: '/v1/completions', body: enc('{"model":"m","prompt":"x","stream":true,"cache_salt":"s"}') },
    { name: 'invalid JSON', path: '/v1/chat/completions', body: enc('{not json') },
    { name: 'empty body', path: '/anything', body: new Uint8Array(0) },
    { name: 'binary body', path: '/grpc.Service/Method', body: new Uint8Array([0, 255, 1, 2]) },
  ];
  for (const c of cases) {
    const inp = { path: c.path, headers: { 'content-type': 'application/json' }, body: c.body };
    const parsed = parser.parse(inp);
    assert.equal(parsed.model, '', c.name);
    assert.equal(parsed.body.api, 'passthrough', c.name);
    assert.equal(parsed.body.json, undefined, c.name);
    assert.equal('json' in parsed.body, false, c.name);
    assert.equal(parsed.body.prefixText.length, 0, c.name);
    assert.equal(parsed.body.cacheSalt, '', c.name);
    assert.equal(parsed.body.stream, false, c.name);
    assert.equal(parser.rewriteModel(inp, parsed, 'other-model'), c.body, c.name);
  }
});
