import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAiParser } from '../../src/plugins/openai-parser/index.js';
import { ParseOffload } from '../../src/pool/parse-offload.js';
import { WorkerPool } from '../../src/pool/worker-pool.js';
import { EppError } from '../../src/errors.js';

const parser = new OpenAiParser('openai-parser');
const big = 'a long document line. '.repeat(20_000);
const bodies: [string, string][] = [
  ['/v1/chat/completions', JSON.stringify({ model: 'm', messages: [{ role: 'user', content: big }], stream: true, cache_salt: 's' })],
  ['/v1/completions', JSON.stringify({ model: 'm', prompt: `say "${big}"` })],
  ['/v1/responses', JSON.stringify({ model: 'm', instructions: 'be brief', input: [{ role: 'user', content: big }] })],
  ['/v1/embeddings', JSON.stringify({ model: 'e', input: [big, 'b'] })],
  ['/v1/conversations', JSON.stringify({ items: [{ type: 'message', text: big }] })],
];
const bad: [string, string][] = [
  ['/v1/chat/completions', '{"model": "m", "messages": '],
  ['/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: big }] })],
  ['/v1/chat/completions', JSON.stringify({ model: 'm', messages: [] })],
  ['/v1/completions', ''],
];

const inputOf = ([path, body]: [string, string]) => ({ path, headers: {}, body: Buffer.from(body) });
const errorOf = async (f: () => unknown) => {
  try {
    await f();
  } catch (err) {
    return { code: (err as EppError).code, message: (err as Error).message, isEpp: err instanceof EppError };
  }
  return undefined;
};

test('parse offload: the worker gives what the inline parser gives, errors included', async () => {
  const pool = new WorkerPool();
  pool.start(1);
  const offload = new ParseOffload({ pool, minBytes: 1000 });
  try {
    for (const b of bodies) {
      const input = inputOf(b);
      assert.equal(offload.wants(input.body), true);
      const inline = parser.parse(input);
      const off = await offload.parse(input);
      assert.equal(off.model, inline.model, b[0]);
      assert.deepEqual({ ...off.body, json: undefined, prefixText: undefined }, { ...inline.body, json: undefined, prefixText: undefined }, b[0]);
      assert.ok(Buffer.from(off.body.prefixText).equals(Buffer.from(inline.body.prefixText)), `${b[0]}: same prefix bytes`);
      assert.equal(typeof Object.getOwnPropertyDescriptor(off.body, 'json')?.get, 'function', 'the worker keeps its parse; the main thread parses only if a plugin reads the JSON');
      assert.deepEqual(off.body.json, inline.body.json, b[0]);
    }
    for (const b of bad) {
      const want = await errorOf(() => parser.parse(inputOf(b)));
      assert.ok(want, `${b[1].slice(0, 20)} is bad inline`);
      assert.deepEqual(await errorOf(() => offload.parse(inputOf(b))), want);
    }
    assert.equal(offload.wants(Buffer.alloc(999)), false);
    assert.deepEqual(offload.stats, { offloaded: bodies.length + bad.length });
    assert.deepEqual(pool.stats.fallbacks, {});
  } finally {
    await pool.close();
  }
});

test('parse offload: with no worker threads nothing is offloaded; bad options name the option', () => {
  assert.equal(new ParseOffload({ pool: new WorkerPool(), minBytes: 0 }).wants(Buffer.alloc(10)), false);
  assert.throws(() => new ParseOffload({ pool: new WorkerPool(), minBytes: -1 }), /options\.minBytes must be >= 0, got -1/);
});

test('parse offload: --workers auto leaves 2-core machines inline unless pooled work is configured', async () => {
  const { autoWorkers } = await import('../../src/pool/parse-offload.js');
  assert.deepEqual([1, 2, 3, 8].map((cores) => autoWorkers(cores)), [0, 0, 1, 6]);
  assert.deepEqual([1, 2, 3, 8].map((cores) => autoWorkers(cores, true)), [1, 1, 2, 7]);
});
