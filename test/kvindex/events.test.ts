/** KV-event batch decoding: both batch forms, both event encodings, every hash form, bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import { decodeBatch, KvEventFormatError, normalizeHash, topicModel, topicPod } from '../../src/kvindex/events.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const pack = (v: unknown) => packr.pack(v);

test('hash normalisation', () => {
  const cases: [unknown, bigint][] = [
    [5, 5n],
    [2n ** 63n + 7n, 2n ** 63n + 7n],
    [-1n, 2n ** 64n - 1n],
    [-2, 2n ** 64n - 2n],
    [Uint8Array.from([1, 2]), 0x0102n],
    [Uint8Array.from([9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8]), 0x0102030405060708n],
  ];
  for (const [input, want] of cases) assert.equal(normalizeHash(input), want, String(input));
  assert.throws(() => normalizeHash(new Uint8Array(0)), KvEventFormatError);
  assert.throws(() => normalizeHash('x'), KvEventFormatError);
});

const cases: { name: string; payload: unknown; want: unknown[] }[] = [
  {
    name: 'positional, trailing defaults dropped',
    payload: [1.5, [['BlockStored', [11, 12], null, [1, 2, 3, 4, 5, 6, 7, 8], 4]], 0],
    want: [{ kind: 'stored', hashes: [11n, 12n], parent: undefined, tokens: [1, 2, 3, 4, 5, 6, 7, 8], blockSize: 4, loraName: undefined, tier: 'gpu' }],
  },
  {
    name: 'positional with parent, medium and LoRA name',
    payload: [1, [['BlockStored', [13], 12, [9, 9, 9, 9], 4, null, 'CPU', 'sql-lora']]],
    want: [{ kind: 'stored', hashes: [13n], parent: 12n, tokens: [9, 9, 9, 9], blockSize: 4, loraName: 'sql-lora', tier: 'cpu' }],
  },
  {
    name: 'tagged maps, bytes hashes, removal and clear',
    payload: [2, [{ type: 'BlockRemoved', block_hashes: [Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 7])], medium: 'GPU' }, { type: 'AllBlocksCleared' }]],
    want: [{ kind: 'removed', hashes: [7n], tier: 'gpu' }, { kind: 'cleared' }],
  },
  {
    name: 'the map form of a batch; unknown event kinds skipped',
    payload: { ts: 3, events: [['SomethingNew', 1], ['BlockRemoved', [1], null]], data_parallel_rank: 0 },
    want: [{ kind: 'removed', hashes: [1n], tier: 'gpu' }],
  },
  {
    name: 'SGLang: signed int64 hashes, trailing nulls sent',
    payload: [4, [['BlockStored', [-5n], null, [1, 2], 2, null, 'CPU_PINNED', null, null]], 0],
    want: [{ kind: 'stored', hashes: [2n ** 64n - 5n], parent: undefined, tokens: [1, 2], blockSize: 2, loraName: undefined, tier: 'cpu_pinned' }],
  },
];

for (const c of cases) {
  test(`decodeBatch: ${c.name}`, () => {
    assert.deepEqual(decodeBatch(pack(c.payload)).events, c.want);
  });
}

test('decodeBatch: malformed payloads are KvEventFormatErrors naming the problem', () => {
  const bad: [Uint8Array, RegExp][] = [
    [Uint8Array.from([0x92, 0x01]), /not msgpack/],
    [pack([1, 'nope']), /no event list/],
    [pack([1, ['not an event']]), /neither a list nor a map/],
    [pack([1, [['BlockStored', 'x']]]), /block_hashes is not a list/],
    [pack([1, [['BlockStored', [1], null, 'abc']]]), /token_ids is not a list/],
  ];
  for (const [payload, message] of bad) assert.throws(() => decodeBatch(payload), (e: unknown) => e instanceof KvEventFormatError && message.test(e.message), String(message));
});

test('topics: kv@<pod>@<model>', () => {
  assert.equal(topicPod('kv@10.0.0.1:8000@llama'), '10.0.0.1:8000');
  assert.equal(topicModel('kv@10.0.0.1:8000@llama'), 'llama');
  assert.equal(topicModel('kv@only-two'), '');
  assert.equal(topicPod('weird'), '');
});
