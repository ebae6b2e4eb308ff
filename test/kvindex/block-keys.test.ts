/** llm-d's cbor-fnv block keys against the reference's test vector (/work/shared/reference/precise-prefix.md §3). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockKeyer } from '../../src/kvindex/block-keys.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('cbor-fnv: seed "42", model test-model, block 16: init, root and the first two keys', () => {
  const k = new BlockKeyer({ blockSize: 16, hashSeed: '42' });
  assert.equal(k.init, 0x07ee7e07b4b19223n);
  assert.equal(k.root('test-model'), 0x3888e4ab5b23f4c9n);
  assert.deepEqual(k.keys('test-model', range(1, 32)), [3239622172847516705n, 18365376266021390534n]);
});

test('cbor-fnv: empty seed; partial blocks have no key; chaining from a parent equals one pass', () => {
  const k = new BlockKeyer({ blockSize: 16, hashSeed: '' });
  assert.deepEqual(k.keys('test-model', range(1, 16)), [9540012594951042066n]);
  assert.deepEqual(k.keys('test-model', range(1, 31)).length, 1, 'the 15 trailing tokens make no block');
  const all = k.keys('test-model', range(1, 48));
  assert.deepEqual(k.keys('test-model', range(17, 48), { parent: all[0] }), all.slice(1));
  assert.deepEqual(k.keys('test-model', range(1, 48), { offset: 16, parent: all[0] }), all.slice(1));
});

test('cbor-fnv: large token ids, another model, a cache salt on block 0 all change the keys', () => {
  const k = new BlockKeyer({ blockSize: 4, hashSeed: 's' });
  const base = k.keys('m', [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.notDeepEqual(k.keys('m', [1, 2, 3, 70000, 5, 6, 7, 8])[0], base[0]);
  assert.notDeepEqual(k.keys('other', [1, 2, 3, 4])[0], base[0]);
  const salted = k.keys('m', [1, 2, 3, 4, 5, 6, 7, 8], { saltOnFirst: 'tenant-a' });
  assert.notEqual(salted[0], base[0]);
  assert.notEqual(salted[1], base[1], 'the salt changes every key after it through the chain');
  assert.throws(() => new BlockKeyer({ blockSize: 0, hashSeed: '' }), /block size must be positive/);
});
