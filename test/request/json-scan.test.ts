import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topLevelValues } from '../../src/request/json-scan.js';

const cases: { name: string; body: string; keys: string[]; want: Record<string, string> | undefined }[] = [
  { name: 'values of every type', body: '{"a":1,"b":"x","c":[1,{"d":2}],"e":{"f":[]},"g":null}', keys: ['a', 'b', 'c', 'e', 'g'], want: { a: '1', b: '"x"', c: '[1,{"d":2}]', e: '{"f":[]}', g: 'null' } },
  { name: 'nested keys of the same name are not top-level', body: '{"messages":[{"model":"inner"}],"model":"outer"}', keys: ['model'], want: { model: '"outer"' } },
  { name: 'a quote after an escaped backslash ends the string', body: '{"p":"a\\\\","q":2}', keys: ['p', 'q'], want: { p: '"a\\\\"', q: '2' } },
  { name: 'an escaped quote does not', body: '{"p":"say \\"}\\" now","q":2}', keys: ['p', 'q'], want: { p: '"say \\"}\\" now"', q: '2' } },
  { name: 'brackets inside strings are text', body: '{"m":["]}{["],"n":0}', keys: ['m', 'n'], want: { m: '["]}{["]', n: '0' } },
  { name: 'whitespace, BOM and an escaped key', body: '\ufeff { "mo\\u0064el" : "x" ,\n "y":1 }', keys: ['model'], want: { model: '"x"' } },
  { name: 'the last duplicate wins, as JSON.parse', body: '{"k":1,"k":2}', keys: ['k'], want: { k: '2' } },
  { name: 'an empty object', body: '{}', keys: ['k'], want: {} },
  { name: 'not an object', body: '[1,2]', keys: ['k'], want: undefined },
  { name: 'unterminated string', body: '{"k":"abc', keys: ['k'], want: undefined },
  { name: 'unterminated object', body: '{"k":[1,2', keys: ['k'], want: undefined },
];

test('json scan: top-level value ranges (table)', () => {
  for (const c of cases) {
    const body = Buffer.from(c.body);
    const got = topLevelValues(body, c.keys);
    const text = got && Object.fromEntries([...got].map(([k, r]) => [k, body.subarray(r.start, r.end).toString()]));
    assert.deepEqual(text, c.want, c.name);
  }
});
