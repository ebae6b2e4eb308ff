import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spliceModel, findModelValue } from '../../src/request/model-splice.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test('spliceModel replaces only the top-level model value (table)', () => {
  // `old` is the exact old value literal in `body` (quotes included); the only bytes that may change.
  const cases: { name: string; body: string; model: string; old: string; want: Record<string, unknown> }[] = [
    { name: 'model first', body: '{"model":"a","prompt":"p"}', model: 'b', old: '"a"', want: { model: 'b', prompt: 'p' } },
    { name: 'model last', body: '{"prompt":"p","stream":true,"model":"a"}', model: 'b', old: '"a"', want: { prompt: 'p', stream: true, model: 'b' } },
    { name: 'model in the middle', body: '{"n":1,"model":"a","x":null}', model: 'longer-model', old: '"a"', want: { n: 1, model: 'longer-model', x: null } },
    { name: 'only key', body: '{"model":"abc"}', model: '', old: '"abc"', want: { model: '' } },
    {
      name: 'nested model keys in messages left alone',
      body: '{"messages":[{"role":"user","model":"inner","content":{"model":"deep"}}],"model":"outer"}',
      model: 'new',
      old: '"outer"',
      want: { messages: [{ role: 'user', model: 'inner', content: { model: 'deep' } }], model: 'new' },
    },
    {
      name: '"model" inside a string value',
      body: '{"prompt":"say \\"model\\":\\"x\\" {[","model":"real"}',
      model: 'z',
      old: '"real"',
      want: { prompt: 'say "model":"x" {[', model: 'z' },
    },
    {
      name: 'string value ending in an escaped backslash',
      body: '{"prompt":"c:\\\\","model":"m"}',
      model: 'n',
      old: '"m"',
      want: { prompt: 'c:\\', model: 'n' },
    },
    { name: 'escaped quotes in the old value', body: '{"model":"we\\"ird\\\\","p":1}', model: 'ok', old: '"we\\"ird\\\\"', want: { model: 'ok', p: 1 } },
    { name: 'whitespace around the colon', body: '{\n  "prompt" : [1, 2],\n  "model"  :\t "a" ,\n  "x": {}\n}\n', model: 'b', old: '"a"', want: { prompt: [1, 2], model: 'b', x: {} } },
    { name: 'non-ASCII new model', body: '{"model":"a","p":"é"}', model: 'modèle-日本-🚀', old: '"a"', want: { model: 'modèle-日本-🚀', p: 'é' } },
    { name: 'non-ASCII old value and neighbours', body: '{"ключ":"значение","model":"мод"}', model: 'm', old: '"мод"', want: { ключ: 'значение', model: 'm' } },
    { name: 'new model needs escaping', body: '{"model":"a"}', model: 'q"\\\n', old: '"a"', want: { model: 'q"\\\n' } },
    { name: 'key containing "model" as a substring', body: '{"models":"no","model_x":"no","model":"yes"}', model: 'y', old: '"yes"', want: { models: 'no', model_x: 'no', model: 'y' } },
    { name: 'escaped key spelling model', body: '{"\\u006dodel":"a","p":2}', model: 'b', old: '"a"', want: { model: 'b', p: 2 } },
    { name: 'duplicate keys: the last one (what JSON.parse keeps)', body: '{"model":"first","model":"second"}', model: 'x', old: '"second"', want: { model: 'x' } },
    { name: 'scalars and nested arrays before', body: '{"a":-1.5e3,"b":false,"c":[[{"model":"q"}],[]],"model":"m"}', model: 'n', old: '"m"', want: { a: -1500, b: false, c: [[{ model: 'q' }], []], model: 'n' } },
  ];
  for (const c of cases) {
    const body = enc(c.body);
    const copy = body.slice();
    const out = spliceModel(body, c.model);
    assert.ok(out, c.name);
    assert.deepEqual(JSON.parse(dec(out)), c.want, c.name);
    // Bytes outside the old value are unchanged: before + JSON.stringify(model) + after.
    const at = c.body.lastIndexOf(c.old);
    const expected = c.body.slice(0, at) + JSON.stringify(c.model) + c.body.slice(at + c.old.length);
    assert.deepEqual(Array.from(out), Array.from(enc(expected)), c.name);
    assert.deepEqual(body, copy, `${c.name}: input not mutated`);
  }
});

test('spliceModel returns undefined without a top-level string model (table)', () => {
  const cases: { name: string; body: string }[] = [
    { name: 'no model', body: '{"prompt":"p"}' },
    { name: 'empty object', body: '{}' },
    { name: 'empty object with spaces', body: ' { } ' },
    { name: 'only nested model', body: '{"messages":[{"model":"inner"}],"meta":{"model":"x"}}' },
    { name: 'model only inside a string', body: '{"prompt":"\\"model\\":\\"x\\""}' },
    { name: 'model is a number', body: '{"model":5,"prompt":"p"}' },
    { name: 'model is null', body: '{"model":null}' },
    { name: 'model is an object', body: '{"model":{"name":"x"}}' },
    { name: 'model is an array', body: '{"model":["x"]}' },
    { name: 'last duplicate not a string', body: '{"model":"a","model":1}' },
    { name: 'array body', body: '[{"model":"a"}]' },
    { name: 'string body', body: '"model"' },
    { name: 'empty body', body: '' },
    { name: 'truncated', body: '{"model":"a' },
    { name: 'truncated after value', body: '{"model":"a",' },
    { name: 'missing colon', body: '{"model" "a"}' },
  ];
  for (const c of cases) {
    assert.equal(spliceModel(enc(c.body), 'x'), undefined, c.name);
    assert.equal(findModelValue(enc(c.body)), undefined, c.name);
  }
});

test('findModelValue gives the byte range of the value literal, in bytes not UTF-16 units', () => {
  const body = enc('{"p":"日本","model":"ab"}');
  const r = findModelValue(body)!;
  assert.deepEqual(r, { start: 22, end: 26 }); // 6 bytes for "日本", not 2 UTF-16 units
  assert.equal(dec(body.subarray(r.start, r.end)), '"ab"');
});

test('a UTF-8 BOM before the object is kept', () => {
  const body = new Uint8Array([0xef, 0xbb, 0xbf, ...enc('{"model":"a"}')]);
  const out = spliceModel(body, 'b')!;
  assert.deepEqual(Array.from(out), [0xef, 0xbb, 0xbf, ...enc('{"model":"b"}')]);
});
