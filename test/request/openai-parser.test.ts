import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registration, OpenAiParser } from '../../src/plugins/openai-parser/index.js';
import { apiFromPath, type OpenAiApi } from '../../src/request/openai-api.js';
import { EppError, ErrorCodes } from '../../src/errors.js';
import type { ParseInput } from '../../src/framework/parser.js';
import { testHandle } from '../helpers/fixtures.js';

const parser = registration.factory('p', undefined, testHandle()) as OpenAiParser;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const input = (path: string, body: string | Uint8Array): ParseInput => ({ path, headers: {}, body: typeof body === 'string' ? enc(body) : body });

const PATHS: Record<OpenAiApi, string> = {
  completions: '/v1/completions',
  'chat-completions': '/v1/chat/completions',
  responses: '/v1/responses',
  conversations: '/v1/conversations',
  embeddings: '/v1/embeddings',
};

test('registration', () => {
  assert.equal(registration.type, 'openai-parser');
  assert.equal(registration.takesNoParameters, true);
  assert.equal(parser.type, 'openai-parser');
  assert.equal(parser.name, 'p');
});

test('valid bodies (table)', () => {
  const cases: { name: string; api: OpenAiApi; body: string; model: string; stream: boolean; cacheSalt: string; prefix: string }[] = [
    { name: 'completions string prompt', api: 'completions', body: '{"model":"m","prompt":"hello wörld"}', model: 'm', stream: false, cacheSalt: '', prefix: 'hello wörld' },
    { name: 'completions array prompt, bytes as the client wrote them', api: 'completions', body: '{"model":"m","prompt":["a", "b"]}', model: 'm', stream: false, cacheSalt: '', prefix: '["a", "b"]' },
    { name: 'string prompt with escapes: the literal\'s bytes', api: 'completions', body: '{"model":"m","prompt":"say \\"hi\\"\\n"}', model: 'm', stream: false, cacheSalt: '', prefix: 'say \\"hi\\"\\n' },
    { name: 'pretty-printed chat: messages as written', api: 'chat-completions', body: '{\n  "model": "m",\n  "messages": [ {"role": "user", "content": "hi"} ]\n}', model: 'm', stream: false, cacheSalt: '', prefix: '[ {"role": "user", "content": "hi"} ]' },
    { name: 'completions token prompt', api: 'completions', body: '{"model":"m","prompt":[1,2,3]}', model: 'm', stream: false, cacheSalt: '', prefix: '[1,2,3]' },
    { name: 'completions stream + salt', api: 'completions', body: '{"model":"m","prompt":"x","stream":true,"cache_salt":"s1"}', model: 'm', stream: true, cacheSalt: 's1', prefix: 'x' },
    { name: 'completions empty prompt', api: 'completions', body: '{"model":"m","prompt":""}', model: 'm', stream: false, cacheSalt: '', prefix: '' },
    { name: 'null stream and salt mean defaults', api: 'completions', body: '{"model":"m","prompt":"x","stream":null,"cache_salt":null}', model: 'm', stream: false, cacheSalt: '', prefix: 'x' },
    {
      name: 'chat, spaced: messages as written',
      api: 'chat-completions',
      body: '{ "model" : "llama", "messages" : [ {"role":"user", "content":"hi"} ], "stream": false }',
      model: 'llama',
      stream: false,
      cacheSalt: '',
      prefix: '[ {"role":"user", "content":"hi"} ]',
    },
    {
      name: 'responses all fields',
      api: 'responses',
      body: '{"model":"m","instructions":"be brief","tools":[{"type":"web"}],"input":"q","cache_salt":"t"}',
      model: 'm',
      stream: false,
      cacheSalt: 't',
      prefix: '["be brief",[{"type":"web"}],"q"]',
    },
    { name: 'responses input only', api: 'responses', body: '{"model":"m","input":[{"role":"user","content":"q"}]}', model: 'm', stream: false, cacheSalt: '', prefix: '[null,null,[{"role":"user","content":"q"}]]' },
    { name: 'conversations without model', api: 'conversations', body: '{"items":[{"type":"message"}]}', model: '', stream: false, cacheSalt: '', prefix: '[{"type":"message"}]' },
    { name: 'conversations without items', api: 'conversations', body: '{"metadata":{}}', model: '', stream: false, cacheSalt: '', prefix: '' },
    { name: 'conversations with model', api: 'conversations', body: '{"model":"m","items":[]}', model: 'm', stream: false, cacheSalt: '', prefix: '[]' },
    { name: 'embeddings string', api: 'embeddings', body: '{"model":"e","input":"text"}', model: 'e', stream: false, cacheSalt: '', prefix: 'text' },
    { name: 'embeddings array', api: 'embeddings', body: '{"model":"e","input":["a","b"]}', model: 'e', stream: false, cacheSalt: '', prefix: '["a","b"]' },
  ];
  for (const c of cases) {
    const got = parser.parse(input(PATHS[c.api], c.body));
    assert.equal(got.model, c.model, c.name);
    assert.equal(got.body.api, c.api, c.name);
    assert.equal(got.body.stream, c.stream, c.name);
    assert.equal(got.body.cacheSalt, c.cacheSalt, c.name);
    assert.ok(got.body.prefixText instanceof Uint8Array, c.name);
    assert.deepEqual(Array.from(got.body.prefixText), Array.from(enc(c.prefix)), c.name);
    assert.deepEqual(got.body.json, JSON.parse(c.body), c.name);
  }
});


test('bad bodies (table)', () => {
  const cases: { name: string; api: OpenAiApi; body: string; message: string }[] = [
    { name: 'empty body', api: 'completions', body: '', message: 'request body is empty' },
    { name: 'invalid JSON', api: 'completions', body: '{"model":', message: 'invalid JSON body: the body ends before the JSON does' },
    { name: 'whitespace only', api: 'chat-completions', body: '  ', message: 'invalid JSON body: the body ends before the JSON does' },
    { name: 'invalid JSON whose V8 message quotes the body', api: 'completions', body: '{"model":"m","prompt":secret words}', message: 'invalid JSON body: not valid JSON' },
    { name: 'array body', api: 'completions', body: '[1]', message: 'request body must be a JSON object' },
    { name: 'null body', api: 'completions', body: 'null', message: 'request body must be a JSON object' },
    { name: 'string body', api: 'embeddings', body: '"x"', message: 'request body must be a JSON object' },
    { name: 'missing model', api: 'completions', body: '{"prompt":"x"}', message: 'model not found in request body' },
    { name: 'null model', api: 'chat-completions', body: '{"model":null,"messages":[{}]}', message: 'model not found in request body' },
    { name: 'empty model', api: 'completions', body: '{"model":"","prompt":"x"}', message: '"model" must be a non-empty string' },
    { name: 'numeric model', api: 'completions', body: '{"model":7,"prompt":"x"}', message: '"model" must be a non-empty string' },
    { name: 'missing model responses', api: 'responses', body: '{"input":"x"}', message: 'model not found in request body' },
    { name: 'missing model embeddings', api: 'embeddings', body: '{"input":"x"}', message: 'model not found in request body' },
    { name: 'conversations numeric model', api: 'conversations', body: '{"model":1}', message: '"model" must be a non-empty string' },
    { name: 'missing prompt', api: 'completions', body: '{"model":"m"}', message: '"prompt" must be a string or an array' },
    { name: 'object prompt', api: 'completions', body: '{"model":"m","prompt":{}}', message: '"prompt" must be a string or an array' },
    { name: 'missing messages', api: 'chat-completions', body: '{"model":"m"}', message: '"messages" must be a non-empty array' },
    { name: 'empty messages', api: 'chat-completions', body: '{"model":"m","messages":[]}', message: '"messages" must be a non-empty array' },
    { name: 'string messages', api: 'chat-completions', body: '{"model":"m","messages":"hi"}', message: '"messages" must be a non-empty array' },
    { name: 'message not an object', api: 'chat-completions', body: '{"model":"m","messages":[{},"hi"]}', message: '"messages[1]" must be an object' },
    { name: 'message is an array', api: 'chat-completions', body: '{"model":"m","messages":[[]]}', message: '"messages[0]" must be an object' },
    { name: 'missing input responses', api: 'responses', body: '{"model":"m"}', message: '"input" must be a string or an array' },
    { name: 'numeric input responses', api: 'responses', body: '{"model":"m","input":3}', message: '"input" must be a string or an array' },
    { name: 'missing input embeddings', api: 'embeddings', body: '{"model":"m"}', message: '"input" not found in request body' },
    { name: 'items not an array', api: 'conversations', body: '{"items":{}}', message: '"items" must be an array' },
    { name: 'stream not boolean', api: 'completions', body: '{"model":"m","prompt":"x","stream":"true"}', message: '"stream" must be a boolean' },
    { name: 'cache_salt not string', api: 'completions', body: '{"model":"m","prompt":"x","cache_salt":1}', message: '"cache_salt" must be a string' },
  ];
  for (const c of cases) {
    assert.throws(
      () => parser.parse(input(PATHS[c.api], c.body)),
      (e: unknown) => {
        assert.ok(e instanceof EppError, c.name);
        assert.equal(e.code, ErrorCodes.BAD_REQUEST, c.name);
        assert.equal(e.code, 'EPP_BAD_REQUEST', c.name);
        assert.equal(e.message, c.message, c.name);
        return true;
      },
      c.name,
    );
  }
});

test('API from path (table)', () => {
  const cases: [string, OpenAiApi][] = [
    ['/v1/completions', 'completions'],
    ['/v1/chat/completions', 'chat-completions'],
    ['/v1/chat/completions?api-version=2024', 'chat-completions'],
    ['/v1/responses', 'responses'],
    ['/v1/responses?stream=true&x=1', 'responses'],
    ['/v1/embeddings', 'embeddings'],
    ['/v1/conversations', 'conversations'],
    ['/v1/conversations/conv_123/items', 'conversations'],
    ['/v1/conversations?limit=2', 'conversations'],
    ['/v1/conversationsX', 'completions'],
    ['/v1/models', 'completions'],
    ['/', 'completions'],
    ['', 'completions'],
    ['/v2/chat/completions', 'completions'],
  ];
  for (const [path, api] of cases) assert.equal(apiFromPath(path), api, path);
  // The parser uses the path, not the body shape: a chat body on the completions path fails on prompt.
  assert.equal(parser.parse(input('/v1/chat/completions?x=1', '{"model":"m","messages":[{}]}')).body.api, 'chat-completions');
  assert.equal(parser.parse(input('/unknown', '{"model":"m","prompt":"p"}')).body.api, 'completions');
  assert.throws(() => parser.parse(input('/unknown', '{"model":"m","messages":[{}]}')), {
    message: 'unknown path "/unknown" (known: /v1/completions, /v1/chat/completions, /v1/responses, /v1/embeddings, /v1/conversations); read as completions: "prompt" must be a string or an array',
  });
});

test('rewriteModel (table)', () => {
  const cases: { name: string; path: string; body: string; target: string; want: string; same?: boolean }[] = [
    { name: 'same model: body itself', path: '/v1/completions', body: '{"model":"m","prompt":"x"}', target: 'm', want: '{"model":"m","prompt":"x"}', same: true },
    { name: 'splices, keeps formatting', path: '/v1/chat/completions', body: '{ "messages": [{"model":"inner"}],\n  "model" : "base" }', target: 'lora-1', want: '{ "messages": [{"model":"inner"}],\n  "model" : "lora-1" }' },
    { name: 'conversations without model: re-serialised', path: '/v1/conversations', body: '{ "items": [] }', target: 'm2', want: '{"items":[],"model":"m2"}' },
  ];
  for (const c of cases) {
    const inp = input(c.path, c.body);
    const parsed = parser.parse(inp);
    const out = parser.rewriteModel(inp, parsed, c.target);
    assert.equal(dec(out), c.want, c.name);
    if (c.same) assert.equal(out, inp.body, c.name);
    else assert.notEqual(out, inp.body, c.name);
    assert.equal(dec(inp.body), c.body, `${c.name}: input untouched`);
  }
});

test('prefix bytes sliced from a compact body equal the serialised fields (the cheap path changes nothing for them)', async () => {
  const { prefixTextString } = await import('../../src/request/prefix-text.js');
  const paths: Record<OpenAiApi, string> = { completions: '/v1/completions', 'chat-completions': '/v1/chat/completions', responses: '/v1/responses', conversations: '/v1/conversations', embeddings: '/v1/embeddings' };
  const parser = new OpenAiParser('openai-parser');
  const bodies: [OpenAiApi, Record<string, unknown>][] = [
    ['completions', { model: 'm', prompt: 'plain text, ünïcode' }],
    ['completions', { model: 'm', prompt: [1, 2, 3] }],
    ['chat-completions', { model: 'm', messages: [{ role: 'system', content: 'be "brief"' }, { role: 'user', content: 'x'.repeat(5000) }] }],
    ['responses', { model: 'm', instructions: 'i', input: [{ role: 'user', content: 'q' }] }],
    ['conversations', { items: [{ type: 'message', content: [{ text: 'a' }] }] }],
    ['embeddings', { model: 'e', input: ['a', 'b'] }],
  ];
  for (const [api, json] of bodies) {
    const body = Buffer.from(JSON.stringify(json));
    assert.equal(Buffer.from(parser.parse({ path: paths[api], headers: {}, body }).body.prefixText).toString(), prefixTextString(api, json), api);
  }
});
