/** burst-prefix-cache-producer: the window's joint placement (table), the producer's window, overflow, close, parameters. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignBurst, type AssignOptions, type BurstEntry } from '../../src/plugins/burst-prefix-cache-producer/assign.js';
import { registration, BurstPrefixCacheProducer } from '../../src/plugins/burst-prefix-cache-producer/index.js';
import { PREFIX_CACHE_MATCH_KEY, type PrefixMatchInfo } from '../../src/plugins/approx-prefix-cache-producer/index.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { makeEndpoint, makeRequest, testHandle } from '../helpers/fixtures.js';

const pool = (n: number, running: number[] = []) => Array.from({ length: n }, (_, i) => makeEndpoint({ name: 'abcdef'[i]!, running: running[i] ?? 0 }));

test('assignBurst: groups, caps, co-location within the fair share, balancing by requests or blocks', () => {
  const unlimited: AssignOptions = { maxPerReplica: -1, minColocateBlocks: 0, byTokens: false };
  const cases: { name: string; replicas: number; running?: number[]; prompts: number[][]; options?: Partial<AssignOptions>; want: (string | undefined)[] }[] = [
    { name: 'an identical group goes whole to one replica', replicas: 3, prompts: [[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3]], want: ['a', 'a', 'a', 'a'] },
    { name: 'the least busy replica by running requests when the window is empty', replicas: 3, running: [5, 0, 2], prompts: [[1, 2], [1, 2]], want: ['b', 'b'] },
    { name: 'maxPerReplica fills one replica, then spills to the next', replicas: 3, prompts: Array(5).fill([1, 2, 3]), options: { maxPerReplica: 2 }, want: ['a', 'a', 'b', 'b', 'c'] },
    { name: 'more members than cap × replicas: one each, rebalanced', replicas: 2, prompts: Array(5).fill([4, 5]), options: { maxPerReplica: 1 }, want: ['a', 'b', 'a', 'b', 'a'] },
    { name: 'two groups are balanced across replicas', replicas: 2, prompts: [[1, 2], [7, 8], [1, 2], [7, 8]], want: ['a', 'b', 'a', 'b'] },
    { name: 'singles get no affinity without minColocateBlocks', replicas: 2, prompts: [[1, 2, 3], [1, 2, 4]], want: [undefined, undefined] },
    { name: 'no prefix: no affinity, and it does not break the group', replicas: 2, prompts: [[], [1], [1]], want: [undefined, 'a', 'a'] },
    {
      name: 'minColocateBlocks: a single sharing the leading blocks joins its holder while under the fair share',
      replicas: 2,
      prompts: [[1, 2, 3], [1, 2, 3], [7, 8, 9], [7, 8, 9], [1, 2, 5]],
      options: { minColocateBlocks: 2 },
      want: ['a', 'a', 'b', 'b', 'a'],
    },
    {
      name: 'minColocateBlocks: a holder at its fair share is passed over for balance',
      replicas: 3,
      prompts: [[1, 2, 3], [1, 2, 3], [7, 8, 9], [7, 8, 9], [1, 2, 5]],
      options: { minColocateBlocks: 2 },
      want: ['a', 'a', 'b', 'b', 'c'],
    },
    {
      name: 'minColocateBlocks: singles sharing with each other become units (balanced: one each is the fair share); a lone one stays free',
      replicas: 2,
      prompts: [[1, 2, 3], [1, 2, 4], [9, 9, 9]],
      options: { minColocateBlocks: 2 },
      want: ['a', 'b', undefined],
    },
    { name: 'longer prefixes are placed first', replicas: 2, prompts: [[5], [5], [1, 2, 3, 4], [1, 2, 3, 4]], want: ['b', 'b', 'a', 'a'] },
    { name: 'balance by requests: a long and two short groups', replicas: 2, prompts: [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], [7, 8], [7, 8], [9, 10], [9, 10]], want: ['a', 'a', 'b', 'b', 'a', 'a'] },
    { name: 'balance by tokens: the short groups share the other replica', replicas: 2, prompts: [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], [7, 8], [7, 8], [9, 10], [9, 10]], options: { byTokens: true }, want: ['a', 'a', 'b', 'b', 'b', 'b'] },
  ];
  for (const c of cases) {
    const replicas = pool(c.replicas, c.running);
    const entries: BurstEntry[] = c.prompts.map((p) => ({ hashes: Float64Array.from(p), candidates: replicas }));
    assignBurst(entries, { ...unlimited, ...c.options });
    assert.deepEqual(entries.map((e) => e.assigned?.metadata.name), c.want, c.name);
  }
});

const long = (topic: string) => `${topic}: ${'a shared system prompt for every sample of the group. '.repeat(30)}`;
const produce = (p: BurstPrefixCacheProducer, prompt: string, candidates = pool(3)) => {
  const cs = new MapCycleState();
  const pending = p.produce(makeRequest({ prompt }), candidates, cs);
  const info = () => cs.read<PrefixMatchInfo>(PREFIX_CACHE_MATCH_KEY);
  return { pending, info, cs };
};
const matchedOn = (info: PrefixMatchInfo | undefined) => (info ? info.candidates.filter((_, i) => info.matched[i]! > 0).map((e) => e.metadata.name) : undefined);

test('producer: requests of one window wait for it, then match fully on their shared replica and nowhere else', async () => {
  const p = registration.factory('burst', { windowDurationMs: 30, blockSizeTokens: 16 }, testHandle()) as BurstPrefixCacheProducer;
  const started = performance.now();
  const [x, y, z] = [produce(p, long('rollout')), produce(p, long('rollout')), produce(p, long('other'))];
  assert.ok(x.pending instanceof Promise, 'it waits for the window');
  assert.equal(x.info(), undefined, 'nothing before the window closes');
  await Promise.all([x.pending, y.pending, z.pending]);
  assert.ok(performance.now() - started >= 25, 'held for the window');
  assert.equal(matchedOn(x.info())!.length, 1);
  assert.deepEqual(matchedOn(y.info()), matchedOn(x.info()), 'the group shares one replica');
  assert.equal(x.info()!.matched.find((m) => m > 0), x.info()!.totalBlocks, 'a full match');
  assert.deepEqual(matchedOn(z.info()), [], 'a lone request: no affinity');
  // The next window starts fresh: a new group goes to the least loaded replica again.
  const [u, v] = [produce(p, long('next')), produce(p, long('next'))];
  await Promise.all([u.pending, v.pending]);
  assert.deepEqual(matchedOn(u.info()), ['a']);
  p.close();
});

test('producer: a prompt shorter than a block does not wait; a full window gives no affinity; close releases the window', async () => {
  const p = registration.factory('burst', { windowDurationMs: 10_000, maxBatchSize: 2, blockSizeTokens: 16 }, testHandle()) as BurstPrefixCacheProducer;
  assert.equal(produce(p, 'hi').pending, undefined, 'shorter than a block: on at once, no match info');
  const [a, b] = [produce(p, long('g')), produce(p, long('g'))];
  const third = produce(p, long('g'));
  assert.equal(third.pending, undefined, 'over maxBatchSize: on at once');
  assert.equal(third.info(), undefined);
  assert.equal(p.overflowed, 1);
  const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  p.close();
  await Promise.all([a.pending, b.pending]); // would hang 10 s without close
  assert.deepEqual(matchedOn(a.info()), matchedOn(b.info()));
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, timers - 1, 'the window timer is gone');
});

test('producer: a replica known by key matches even when the request saw another snapshot of it', async () => {
  const p = registration.factory('burst', { windowDurationMs: 5, blockSizeTokens: 16 }, testHandle()) as BurstPrefixCacheProducer;
  const first = pool(2);
  const later = first.map((e) => ({ ...e })); // same keys, new objects (a metrics update between arrivals)
  const [x, y] = [produce(p, long('s'), first), produce(p, long('s'), later)];
  await Promise.all([x.pending, y.pending]);
  assert.deepEqual(matchedOn(y.info()), matchedOn(x.info()));
  assert.equal(matchedOn(y.info())!.length, 1);
});

test('parameters: llm-d defaults and clear errors', () => {
  const p = registration.factory('burst', undefined, testHandle()) as BurstPrefixCacheProducer;
  assert.deepEqual(p.config, { windowMs: 100, maxPerReplica: -1, blockSizeTokens: 64, maxBlocks: 2048, minColocateBlocks: 0, maxBatchSize: 1000, byTokens: false });
  assert.equal((registration.factory('b', { maxPrefixTokensToMatch: 256, blockSizeTokens: 64, balanceBy: 'tokens' }, testHandle()) as BurstPrefixCacheProducer).config.maxBlocks, 4);
  const bad: [object, RegExp][] = [
    [{ windowDurationMs: 0 }, /parameters\.windowDurationMs: must be in 1\.\.10000/],
    [{ windowDurationMs: 20_000 }, /parameters\.windowDurationMs: must be in 1\.\.10000/],
    [{ maxPerReplica: 0 }, /parameters\.maxPerReplica: must be -1 \(unlimited\) or a positive integer/],
    [{ maxBatchSize: -2 }, /parameters\.maxBatchSize/],
    [{ balanceBy: 'bytes' }, /parameters\.balanceBy: must be "requests" or "tokens"/],
    [{ maxPrefixTokensToMatch: 10 }, /parameters\.maxPrefixTokensToMatch: must be 0 or at least blockSizeTokens \(64\)/],
    [{ minColocateBlocks: -1 }, /parameters\.minColocateBlocks/],
  ];
  for (const [params, re] of bad) assert.throws(() => registration.factory('b', params, testHandle()), re, JSON.stringify(params));
});

test('beside another prefix producer: the config loader says which one the scorer reads', async () => {
  const { loadConfig } = await import('../../src/config/loader.js');
  const { Registry } = await import('../../src/framework/registry.js');
  const { registerInTreePlugins } = await import('../../src/plugins/index.js');
  const { testServices } = await import('../helpers/fixtures.js');
  const warnings: string[] = [];
  const text = 'plugins:\n- type: approx-prefix-cache-producer\n- type: burst-prefix-cache-producer\n- type: prefix-cache-scorer\n';
  const config = loadConfig({ configText: text }, registerInTreePlugins(new Registry()), testServices(), { warn: (m) => warnings.push(m) });
  for (const p of config.plugins.values()) (p as { close?: () => void }).close?.();
  assert.deepEqual(warnings, ['plugins "approx-prefix-cache-producer", "burst-prefix-cache-producer" all produce "prefix-cache-match-info"; a consumer naming no producer reads what "burst-prefix-cache-producer" writes (the last in config order)']);
});

test('beside approx-prefix-cache-producer: each prefix-cache-scorer reads the producer it names, and approx learns its own blocks', async () => {
  const { registration: approxRegistration, ApproxPrefixCacheProducer } = await import('../../src/plugins/approx-prefix-cache-producer/index.js');
  const { registration: scorerRegistration, PrefixCacheScorer } = await import('../../src/plugins/prefix-cache-scorer/index.js');
  const approx = approxRegistration.factory('approx-prefix-cache-producer', undefined, testHandle()) as InstanceType<typeof ApproxPrefixCacheProducer>;
  const burst = registration.factory('burst-prefix-cache-producer', { windowDurationMs: 5, blockSizeTokens: 16 }, testHandle()) as BurstPrefixCacheProducer;
  const scorer = (producer?: string) => scorerRegistration.factory('s', producer ? { prefixMatchInfoProducerName: producer } : undefined, testHandle()) as InstanceType<typeof PrefixCacheScorer>;
  const replicas = pool(3);
  const routedTo = (e: (typeof replicas)[number]) => ({ primaryProfileName: 'default', profileResults: new Map([['default', { targetEndpoints: [{ endpoint: e, score: 1 }] }]]) });
  const prompt = long('warm');
  const warm = new MapCycleState();
  approx.produce(makeRequest({ prompt }), replicas, warm);
  approx.preRequest(makeRequest({ prompt }), routedTo(replicas[2]!), warm); // an earlier step left it on c

  const [x, y] = [makeRequest({ prompt }), makeRequest({ prompt })].map((r) => ({ r, cs: new MapCycleState() }));
  for (const s of [x!, y!]) approx.produce(s.r, replicas, s.cs);
  await Promise.all([x!, y!].map((s) => burst.produce(s.r, replicas, s.cs)));
  const top = (scores: Float64Array) => replicas.filter((_, i) => scores[i] === 1).map((e) => e.metadata.name);
  const cases: [string | undefined, string[]][] = [
    ['burst-prefix-cache-producer', ['a']], // the burst's replica (empty window: the first by name)
    ['approx-prefix-cache-producer', ['c']], // where the prefix was cached before
    [undefined, ['a']], // no name: the later producer's (as the loader warns)
    ['absent-producer', ['a']], // a name that wrote nothing: the shared key
  ];
  for (const [producer, want] of cases) assert.deepEqual(top(scorer(producer).score(x!.cs, x!.r, replicas)), want, String(producer));

  // approx learns its own blocks on the picked replica, not the burst's (another block size).
  approx.preRequest(x!.r, routedTo(replicas[0]!), x!.cs);
  const again = new MapCycleState();
  approx.produce(makeRequest({ prompt }), replicas, again);
  assert.deepEqual(top(scorer('approx-prefix-cache-producer').score(again, makeRequest({ prompt }), replicas)), ['a', 'c']);
});
