import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../../src/framework/endpoint.js';
import type { Scorer, SchedulingResult } from '../../src/framework/scheduling.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import {
  registration as producerReg,
  ApproxPrefixCacheProducer,
  PREFIX_CACHE_MATCH_KEY,
  MAX_AUTO_TUNED_BLOCKS,
  MAX_AUTO_TUNED_BLOCK_TOKENS,
  type PrefixMatchInfo,
} from '../../src/plugins/approx-prefix-cache-producer/index.js';
import { registration as scorerReg, SelfProducingPrefixCacheScorer } from '../../src/plugins/prefix-cache-scorer/index.js';
import { ConfigError } from '../../src/errors.js';
import { PrefixIndex } from '../../src/plugins/approx-prefix-cache-producer/prefix-index.js';
import { makeEndpoint, makeRequest, testHandle, type RequestSpec } from '../helpers/fixtures.js';

const producer = (params?: unknown) => producerReg.factory('p', params, testHandle()) as ApproxPrefixCacheProducer;
const routedTo = (e: Endpoint): SchedulingResult => ({ primaryProfileName: 'default', profileResults: new Map([['default', { targetEndpoints: [{ endpoint: e, score: 1 }] }]]) });

/** Runs produce (+ optional learn on `learnOn`) and returns the matched blocks per pod and the total. */
function route(p: ApproxPrefixCacheProducer, pods: Endpoint[], spec: RequestSpec, learnOn?: Endpoint) {
  const cs = new MapCycleState();
  const req = makeRequest(spec);
  p.produce(req, pods, cs);
  if (learnOn) p.preRequest(req, routedTo(learnOn), cs);
  const info = cs.read<PrefixMatchInfo>(PREFIX_CACHE_MATCH_KEY)!;
  return { matched: Array.from(info.matched), total: info.totalBlocks };
}

const block = (ch: string) => ch.repeat(64); // one 16-token block

test('matching (table)', () => {
  const cases: { name: string; params?: unknown; learn: RequestSpec; ask: RequestSpec; want: { matched: number[]; total: number } }[] = [
    { name: 'same prompt matches fully', learn: { prompt: block('a') + block('b') }, ask: { prompt: block('a') + block('b') }, want: { matched: [2, 0], total: 2 } },
    { name: 'shared first block only', learn: { prompt: block('a') + block('b') }, ask: { prompt: block('a') + block('c') }, want: { matched: [1, 0], total: 2 } },
    { name: 'match stops at the first block nobody holds', learn: { prompt: block('a') + block('b') + block('c') }, ask: { prompt: block('x') + block('b') + block('c') }, want: { matched: [0, 0], total: 3 } },
    { name: 'cache_salt separates tenants', learn: { prompt: block('a'), cacheSalt: 's1' }, ask: { prompt: block('a'), cacheSalt: 's2' }, want: { matched: [0, 0], total: 1 } },
    { name: 'another model does not match', learn: { prompt: block('a'), model: 'm1' }, ask: { prompt: block('a'), model: 'm2' }, want: { matched: [0, 0], total: 1 } },
    { name: 'shorter than one block: no hashes', learn: { prompt: 'short' }, ask: { prompt: 'short' }, want: { matched: [0, 0], total: 0 } },
    { name: 'empty prompt', learn: { prompt: '' }, ask: { prompt: '' }, want: { matched: [0, 0], total: 0 } },
    { name: 'maxPrefixBlocksToMatch caps', params: { maxPrefixBlocksToMatch: 2 }, learn: { prompt: block('a').repeat(5) }, ask: { prompt: block('a').repeat(5) }, want: { matched: [2, 0], total: 2 } },
    { name: 'maxPrefixTokensToMatch caps (tokens / block size)', params: { maxPrefixTokensToMatch: 48 }, learn: { prompt: block('a').repeat(5) }, ask: { prompt: block('a').repeat(5) }, want: { matched: [3, 0], total: 3 } },
  ];
  for (const c of cases) {
    const p = producer({ autoTune: false, ...(c.params as object) });
    const pods = [makeEndpoint({ name: 'a' }), makeEndpoint({ name: 'b' })];
    route(p, pods, c.learn, pods[0]);
    assert.deepEqual(route(p, pods, c.ask), c.want, c.name);
  }
});

test('the per-server LRU evicts old blocks and takes the pod out of the index', () => {
  const p = producer({ autoTune: false, lruCapacityPerServer: 2 });
  const pod = makeEndpoint({ name: 'a' });
  route(p, [pod], { prompt: block('a') + block('b') }, pod);
  route(p, [pod], { prompt: block('z') + block('y') }, pod); // different chain: evicts both older blocks
  assert.deepEqual(route(p, [pod], { prompt: block('a') + block('b') }).matched, [0]);
  assert.equal(p.index.blocksHeldBy(pod.key), 2);
});

test('autoTune takes block size and LRU capacity from the pods', () => {
  const p = producer(); // autoTune defaults to true
  const pod = makeEndpoint({ name: 'a', blockSize: 4, numBlocks: 3 }); // 4 tokens = 16 bytes per block
  assert.equal(route(p, [pod], { prompt: 'x'.repeat(64) }, pod).total, 4);
  assert.equal(p.index.blocksHeldBy(pod.key), 3, 'capacity is the pod\'s KV block count');
  const manual = producer({ autoTune: false });
  assert.equal(route(manual, [pod], { prompt: 'x'.repeat(64) }).total, 1, 'without autoTune: 16 tokens = 64 bytes');
});

test('endpointRemoved purges the pod everywhere', () => {
  const p = producer({ autoTune: false });
  const [a, b] = [makeEndpoint({ name: 'a' }), makeEndpoint({ name: 'b' })];
  route(p, [a!, b!], { prompt: block('a') }, a);
  route(p, [a!, b!], { prompt: block('a') }, b);
  p.endpointRemoved(a!.key);
  assert.deepEqual(route(p, [a!, b!], { prompt: block('a') }).matched, [0, 1]);
  p.endpointRemoved(b!.key);
  assert.equal(p.index.size, 0);
});

test('the same candidate list across requests: the id table follows pods joining and leaving the index', () => {
  const p = producer({ autoTune: false });
  const [a, b, c] = [makeEndpoint({ name: 'a' }), makeEndpoint({ name: 'b' }), makeEndpoint({ name: 'c' })];
  const pods = [a!, b!, c!]; // one array, as the snapshot's between updates
  const steps: [string, () => void, number[]][] = [
    ['b learns', () => route(p, pods, { prompt: block('x') }, b), [0, 1, 0]],
    ['c learns too (a new id)', () => route(p, pods, { prompt: block('x') }, c), [0, 1, 1]],
    ['b leaves the index', () => p.endpointRemoved(b!.key), [0, 0, 1]],
    ['a learns (may reuse b\'s id)', () => route(p, pods, { prompt: block('x') }, a), [1, 0, 1]],
  ];
  for (const [what, step, want] of steps) {
    step();
    assert.deepEqual(route(p, pods, { prompt: block('x') }).matched, want, what);
  }
});

test('bad parameters are ConfigErrors naming the parameter', () => {
  const cases: [unknown, string][] = [
    [{ blockSizeTokens: 0 }, 'parameters.blockSizeTokens'],
    [{ autoTune: 'yes' }, 'parameters.autoTune'],
    [{ lruCapacityPerServer: -1 }, 'parameters.lruCapacityPerServer'],
    [{ maxPrefixTokensToMatch: 1.5 }, 'parameters.maxPrefixTokensToMatch'],
    ['oops', 'parameters'],
  ];
  for (const [params, path] of cases) assert.throws(() => producer(params), (e: unknown) => e instanceof ConfigError && e.path === path, path);
});

test('legacy v1.0 scorer parameters make the scorer its own producer', () => {
  const scorer = scorerReg.factory('prefix-cache-scorer', { hashBlockSize: 4, lruCapacityPerServer: 100 }, testHandle());
  assert.ok(scorer instanceof SelfProducingPrefixCacheScorer);
  assert.deepEqual(scorer.consumes, []);
  const [a, b] = [makeEndpoint({ name: 'a' }), makeEndpoint({ name: 'b' })];
  const cs1 = new MapCycleState();
  const first = makeRequest({ prompt: 'aaaaaa' });
  scorer.produce(first, [a!, b!], cs1);
  scorer.preRequest(first, routedTo(a!), cs1);
  const cs2 = new MapCycleState();
  const second = makeRequest({ prompt: 'aaaabbbb' });
  scorer.produce(second, [a!, b!], cs2);
  assert.deepEqual(Array.from((scorer as Scorer).score(cs2, second, [a!, b!])), [0.5, 0]);
  const plain = scorerReg.factory('prefix-cache-scorer', { somethingElse: 1 }, testHandle());
  assert.ok(!(plain instanceof SelfProducingPrefixCacheScorer));
});

test('the scorer lines matches up by key when a filter removed candidates', () => {
  const p = producer({ autoTune: false });
  const scorer = scorerReg.factory('prefix-cache-scorer', undefined, testHandle()) as Scorer;
  const pods = ['a', 'b', 'c'].map((name) => makeEndpoint({ name }));
  route(p, pods, { prompt: block('q') }, pods[2]);
  const cs = new MapCycleState();
  const req = makeRequest({ prompt: block('q') });
  p.produce(req, pods, cs);
  assert.deepEqual(Array.from(scorer.score(cs, req, [pods[2]!, pods[0]!])), [1, 0]);
  assert.deepEqual(Array.from(scorer.score(new MapCycleState(), req, pods)), [0, 0, 0], 'no producer data → 0');
});

test('prefix index: a block used again survives the next eviction; the least recently used goes', () => {
  const index = new PrefixIndex();
  index.add('p', [1, 2], 2);
  index.add('p', [1], 2); // 1 is now more recent than 2
  index.add('p', [3], 2);
  const p = index.idOf('p');
  assert.deepEqual([index.holders(1), index.holders(2), index.holders(3)], [[p], undefined, [p]]);
  index.add('q', [3], 5);
  assert.deepEqual(index.holders(3), [p, index.idOf('q')]);
  index.removeEndpoint('p');
  assert.deepEqual([index.holders(1), index.holders(3)], [undefined, [index.idOf('q')]]);
  assert.equal(index.idOf('p'), undefined);
});

test('autoTune clamps what a pod reports: LRU capacity and block size (table)', () => {
  const p = producer();
  const cases: { name: string; numBlocks: number; blockSize: number; capacity: number; blockBytes: number }[] = [
    { name: 'a real pod', numBlocks: 30_000, blockSize: 16, capacity: 30_000, blockBytes: 64 },
    { name: 'absurd block count', numBlocks: 2 ** 31, blockSize: 16, capacity: MAX_AUTO_TUNED_BLOCKS, blockBytes: 64 },
    { name: 'infinite block count', numBlocks: Infinity, blockSize: 16, capacity: MAX_AUTO_TUNED_BLOCKS, blockBytes: 64 },
    { name: 'NaN block count: the configured capacity', numBlocks: NaN, blockSize: 16, capacity: 31_250, blockBytes: 64 },
    { name: 'fractional block count', numBlocks: 10.7, blockSize: 16, capacity: 10, blockBytes: 64 },
    { name: 'absurd block size', numBlocks: 100, blockSize: 1e12, capacity: 100, blockBytes: MAX_AUTO_TUNED_BLOCK_TOKENS * 4 },
    { name: 'fractional block size under one token: the configured size', numBlocks: 100, blockSize: 0.5, capacity: 100, blockBytes: 64 },
  ];
  for (const c of cases) {
    const pod = makeEndpoint({ name: 'a', blockSize: c.blockSize, numBlocks: c.numBlocks });
    assert.equal(p.capacityFor(pod), c.capacity, c.name);
    assert.equal(p.blockSizeBytes([pod]), c.blockBytes, c.name);
  }
  const big = producer({ autoTune: true, lruCapacityPerServer: 4 * MAX_AUTO_TUNED_BLOCKS });
  assert.equal(big.capacityFor(makeEndpoint({ name: 'a', numBlocks: 2 ** 31 })), 4 * MAX_AUTO_TUNED_BLOCKS, 'a configured capacity above the ceiling raises it');
});
