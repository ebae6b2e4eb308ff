/** The KV-block index and its ingestion: stores, removals, clears, tiers, speculation, bounds, sequence checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import { KvBlockIndex } from '../../src/kvindex/kv-block-index.js';
import { KvEventIngester } from '../../src/kvindex/ingest.js';
import { BlockKeyer } from '../../src/kvindex/block-keys.js';
import { until } from '../helpers/until.js';

const W = { gpu: 1, cpu: 0.8 };
const index = (o: { size?: number; podCacheSize?: number; now?: () => number } = {}) => new KvBlockIndex({ size: o.size ?? 1000, podCacheSize: o.podCacheSize ?? 10, tierWeights: W, ...(o.now ? { now: o.now } : {}) });
const m = (ix: KvBlockIndex, keys: ArrayLike<number>, pods: string[]) => Object.fromEntries([...ix.match(keys, pods)].map(([p, x]) => [p, [x.blocks, Math.round(x.weighted * 10) / 10]]));

test('index: longest consecutive prefix per pod, best tier weight per block', () => {
  const ix = index();
  ix.stored('a', [101, 102, 103], [1, 2, 3], 'gpu');
  ix.stored('b', [201, 202], [1, 2], 'cpu');
  ix.stored('b', [301], [3], 'gpu');
  ix.stored('c', [401], [2], 'gpu'); // holds block 2 but not block 1: no prefix
  assert.deepEqual(m(ix, [1, 2, 3, 4], ['a', 'b', 'c', 'z']), { a: [3, 3], b: [3, 2.6], c: [0, 0], z: [0, 0] });
  ix.stored('b', [202], [2], 'gpu'); // the same block in two tiers: the better one counts
  assert.deepEqual(m(ix, [1, 2], ['b']), { b: [2, 1.8] });
});

test('index: removal by engine hash (per tier), clear by pod, nothing left behind', () => {
  const ix = index();
  ix.stored('a', [101, 102], [1, 2], 'gpu');
  ix.stored('a', [101], [1], 'cpu');
  ix.removed('a', [101], 'gpu');
  assert.deepEqual(m(ix, [1, 2], ['a']), { a: [2, 1.8] }, 'still in CPU');
  ix.removed('a', [101], 'cpu');
  assert.deepEqual(m(ix, [1, 2], ['a']), { a: [0, 0] }, 'block 1 gone: no prefix');
  ix.removed('a', [999], 'gpu'); // unknown: no-op
  ix.clear('a');
  assert.equal(ix.size, 0);
  assert.equal(ix.pods, 0);
});

test('index: speculative entries count until they expire; bounds on keys and pods per key', () => {
  const t = { now: 0 };
  const ix = index({ now: () => t.now, size: 3, podCacheSize: 2 });
  ix.speculate('a', [1, 2], 100);
  assert.deepEqual(m(ix, [1, 2], ['a']), { a: [2, 2] });
  t.now = 101;
  assert.deepEqual(m(ix, [1, 2], ['a']), { a: [0, 0] }, 'expired');
  ix.stored('p', [1, 2, 3, 4], [11, 12, 13, 14], 'gpu');
  assert.ok(ix.size <= 3, `at most 3 keys, got ${ix.size}`);
  for (const pod of ['x', 'y', 'z']) ix.stored(pod, [50], [14], 'gpu');
  assert.deepEqual(Object.values(m(ix, [14], ['p', 'x', 'y', 'z'])).filter(([b]) => b > 0).length, 2, 'at most 2 pods per key');
});

const packr = new Packr({ useRecords: false, variableMapSize: true });
const batch = (events: unknown[]) => packr.pack([0, events]);

test('ingestion: stored chains keyed from token ids (parents followed, orphans skipped), removals, restarts and gaps', () => {
  const keyer = new BlockKeyer({ blockSize: 2, hashSeed: '' });
  const ix = index();
  const problems: string[] = [];
  const ing = new KvEventIngester(ix, keyer, (_pod, msg) => problems.push(msg));
  const topic = 'kv@a@m';
  ing.message('a', topic, 0n, batch([['BlockStored', [7, 8], null, [1, 2, 3, 4], 2]]));
  ing.message('a', topic, 1n, batch([['BlockStored', [9], 8, [5, 6], 2]])); // parent 8 = the chain's tail
  ing.message('a', topic, 2n, batch([['BlockStored', [99], 12345, [7, 8], 2]])); // unknown parent: orphan
  const keys = keyer.chain('m', [1, 2, 3, 4, 5, 6, 7, 8]).keys;
  assert.deepEqual(m(ix, keys, ['a']), { a: [3, 3] });
  assert.equal(ing.stats.orphans, 1);

  ing.message('a', topic, 3n, batch([['BlockRemoved', [8]]]));
  assert.deepEqual(m(ix, keys, ['a']), { a: [1, 1] }, 'block 2 gone: the prefix stops there');

  ing.message('a', topic, 3n, batch([['AllBlocksCleared']])); // a duplicate sequence number: dropped
  assert.deepEqual(m(ix, keys, ['a']), { a: [1, 1] });
  ing.message('a', topic, 6n, batch([])); // 4 and 5 lost
  assert.equal(ing.stats.gaps, 1);
  ing.message('a', topic, 0n, batch([])); // back to 0: the engine restarted
  assert.equal(ing.stats.restarts, 1);
  assert.deepEqual(m(ix, keys, ['a']), { a: [0, 0] }, 'its entries dropped');
  ing.message("a", topic, 1n, Uint8Array.from([0x92, 0x01]));
  assert.equal(ing.stats.malformed, 1);
  assert.deepEqual(problems.map((p) => p.replace(/\d+/g, 'N')), [
    'KV-event batches N..N were lost',
    'KV-event sequence went back from N to N: the engine restarted; its entries were dropped',
    'malformed KV-event batch: not msgpack: ' + problems[2]!.split('not msgpack: ')[1]!.replace(/\d+/g, 'N'),
  ]);
});

test('ingestion: the LoRA name, when present, is the model the keys are chained from', () => {
  const keyer = new BlockKeyer({ blockSize: 2, hashSeed: '' });
  const ix = index();
  const ing = new KvEventIngester(ix, keyer);
  ing.message('a', 'kv@a@base', 0n, batch([['BlockStored', [1], null, [1, 2], 2, null, null, 'sql-lora']]));
  assert.deepEqual(m(ix, keyer.chain('sql-lora', [1, 2]).keys, ['a']), { a: [1, 1] });
  assert.deepEqual(m(ix, keyer.chain('base', [1, 2]).keys, ['a']), { a: [0, 0] });
});

test('ingestion with replay: a gap, a late join and a failed replay; live messages wait for the replay', async () => {
  const keyer = new BlockKeyer({ blockSize: 2, hashSeed: '' });
  const topic = 'kv@a@m';
  const stored = (hash: number, parent: number | null, tokens: number[]) => batch([['BlockStored', [hash], parent, tokens, 2]]);
  const history = [stored(1, null, [1, 2]), stored(2, 1, [3, 4]), stored(3, 2, [5, 6]), stored(4, 3, [7, 8])];
  const keys = keyer.chain('m', [1, 2, 3, 4, 5, 6, 7, 8]).keys;
  const calls: bigint[] = [];
  let release: () => void = () => {};
  const replayer = (_pod: string, from: bigint) => {
    calls.push(from);
    return new Promise<[string, bigint, Uint8Array][]>((resolve) => {
      release = () => resolve(history.slice(Number(from), 3).map((p, i) => [topic, from + BigInt(i), p]));
    });
  };

  // A gap: 0, then 3 → batches 1..2 replayed; 3 and the live 4 applied after, in order.
  const ix = index();
  const ing = new KvEventIngester(ix, keyer, () => {}, replayer);
  ing.message('a', topic, 0n, history[0]!);
  ing.message('a', topic, 3n, history[3]!);
  ing.message('a', topic, 4n, batch([]));
  assert.equal(ing.replaying, 1);
  assert.deepEqual(m(ix, keys, ['a']), { a: [1, 1] }, 'only block 0 until the replay lands');
  release();
  await until(() => ing.replaying === 0, 'replay done');
  assert.deepEqual(calls, [1n]);
  assert.deepEqual(m(ix, keys, ['a']), { a: [4, 4] });
  assert.deepEqual([ing.stats.replays, ing.stats.gaps, ing.stats.orphans], [1, 0, 0]);

  // A late join: the first message heard is seq 2 → everything from 0 is fetched.
  const late = index();
  const ing2 = new KvEventIngester(late, keyer, () => {}, replayer);
  ing2.message('a', topic, 3n, history[3]!);
  release();
  await until(() => ing2.replaying === 0, 'replay done');
  assert.deepEqual(calls, [1n, 0n]);
  assert.deepEqual(m(late, keys, ['a']), { a: [4, 4] }, 'chains stored before this EPP listened are known');

  // A failed replay drops the pod's entries; live messages still apply afterwards.
  const broken = index();
  const problems: string[] = [];
  const ing3 = new KvEventIngester(broken, keyer, (_p, msg) => problems.push(msg), () => Promise.reject(new Error('no ROUTER')));
  ing3.message('a', topic, 0n, history[0]!);
  ing3.message('a', topic, 2n, stored(9, null, [5, 6]));
  await until(() => ing3.replaying === 0, 'replay failed');
  assert.equal(ing3.stats.replayFailures, 1);
  assert.match(problems[0]!, /replay from 1 failed \(no ROUTER\); the pod's entries were dropped/);
  assert.deepEqual(m(broken, keys, ['a']), { a: [0, 0] }, 'block 0 dropped with the failure');
  assert.deepEqual(m(broken, keyer.chain('m', [5, 6]).keys, ['a']), { a: [1, 1] }, 'the live message applied after');
});
