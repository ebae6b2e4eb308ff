import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixIndex } from '../../src/plugins/approx-prefix-cache-producer/prefix-index.js';
import { seededRandom } from '../../src/scheduling/random.js';
import { ReferencePrefixIndex } from '../helpers/reference-prefix-index.js';

const sorted = (a: readonly number[] | undefined) => (a ? [...a].sort((x, y) => x - y) : undefined);

test('the compact index behaves exactly as the reference one under random learning, eviction and removal', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const random = seededRandom(seed);
    const int = (n: number) => Math.floor(random.next() * n);
    const compact = new PrefixIndex();
    const reference = new ReferencePrefixIndex();
    const pods = Array.from({ length: 6 }, (_, i) => `pod-${i}`);
    // Hashes from a small universe (so pods share and re-learn blocks), some large 53-bit keys.
    const universe = Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? i + 1 : Math.floor(random.next() * 2 ** 53)));
    for (let step = 0; step < 3000; step++) {
      const pod = pods[int(pods.length)]!;
      if (random.next() < 0.02) {
        compact.removeEndpoint(pod);
        reference.removeEndpoint(pod);
      } else {
        const start = int(universe.length);
        const hashes = Array.from({ length: 1 + int(12) }, (_, i) => universe[(start + i * (1 + int(3))) % universe.length]!);
        const capacity = 5 + int(60);
        compact.add(pod, hashes, capacity);
        reference.add(pod, hashes, capacity);
      }
      if (step % 50 === 0 || step === 2999) {
        assert.equal(compact.size, reference.size, `seed ${seed} step ${step}: distinct hashes`);
        for (const p of pods) {
          assert.equal(compact.blocksHeldBy(p), reference.blocksHeldBy(p), `seed ${seed} step ${step}: blocks of ${p}`);
          assert.equal(compact.idOf(p), reference.idOf(p), `seed ${seed} step ${step}: id of ${p}`);
        }
        for (const h of universe) assert.deepEqual(sorted(compact.holders(h)), sorted(reference.holders(h)), `seed ${seed} step ${step}: holders of ${h}`);
      }
    }
  }
});

test('countMatches stops at the first block nobody holds and counts only candidates', () => {
  const index = new PrefixIndex();
  index.add('a', [10, 11, 12], 100);
  index.add('b', [10, 11], 100);
  index.add('c', [10], 100);
  const position = new Int32Array(index.idLimit).fill(-1);
  position[index.idOf('a')!] = 0;
  position[index.idOf('b')!] = 1; // c is no candidate
  const matched = new Int32Array(2);
  index.countMatches([10, 11, 99, 12], position, matched);
  assert.deepEqual(Array.from(matched), [2, 2]);
});

test('removing pods gives the memory back', () => {
  const index = new PrefixIndex();
  for (let p = 0; p < 8; p++) index.add(`pod-${p}`, Float64Array.from({ length: 20_000 }, (_, i) => p * 1e6 + i), 20_000);
  const full = index.bytes;
  for (let p = 1; p < 8; p++) index.removeEndpoint(`pod-${p}`);
  assert.ok(index.bytes < full / 3, `${index.bytes} bytes after removing 7 of 8 pods, ${full} when full`);
  assert.equal(index.entries, 20_000);
  assert.deepEqual(index.holders(5), [index.idOf('pod-0')]);
  index.add('pod-1', [5], 10);
  assert.deepEqual(sorted(index.holders(5)), sorted([index.idOf('pod-0')!, index.idOf('pod-1')!]));
});
