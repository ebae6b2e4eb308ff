/** load-aware-scorer, active-request-scorer (+ inflight-load-producer), session-affinity-scorer, no-hit-lru-scorer: table-driven. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Scorer } from '../../src/framework/scheduling.js';
import type { PluginRegistration } from '../../src/framework/plugin.js';
import { HeaderEditList } from '../../src/framework/headers.js';
import { primaryTargets } from '../../src/framework/scheduling.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { ConfigError } from '../../src/errors.js';
import { registration as loadAware } from '../../src/plugins/load-aware-scorer/index.js';
import { registration as activeRequest } from '../../src/plugins/active-request-scorer/index.js';
import { registration as session, SessionAffinityScorer, encodeEndpoint } from '../../src/plugins/session-affinity-scorer/index.js';
import { registration as noHitLru, type NoHitLruScorer } from '../../src/plugins/no-hit-lru-scorer/index.js';
import { makeEndpoint, makeRequest, testHandle, testServices, type EndpointSpec } from '../helpers/fixtures.js';
import { cycleFromConfig } from '../helpers/config-cycle.js';

const make = (r: PluginRegistration, params?: unknown, handle = testHandle()) => r.factory(r.type, params, handle) as Scorer;
const round = (xs: ArrayLike<number>) => Array.from(xs, (x) => Math.round(x * 1e6) / 1e6);

test('load-aware and active-request scorers', () => {
  const cases: { name: string; scorer: Scorer; pods: Omit<EndpointSpec, 'name'>[]; inFlight?: number[]; want: number[] }[] = [
    { name: 'load-aware: empty queue 0.5, linear down to 0 at the threshold', scorer: make(loadAware), pods: [{ queue: 0 }, { queue: 64 }, { queue: 128 }, { queue: 500 }], want: [0.5, 0.25, 0, 0] },
    { name: 'load-aware: threshold 10', scorer: make(loadAware, { threshold: 10 }), pods: [{ queue: 5 }], want: [0.25] },
    { name: 'load-aware: unscraped dispatches count as queued', scorer: make(loadAware, { threshold: 4 }), pods: [{}, {}], inFlight: [2, 0], want: [0.25, 0.5] },
    { name: 'active-request: idle → 1, busiest → 0', scorer: make(activeRequest), pods: [{}, {}, {}], inFlight: [0, 2, 4], want: [1, 0.5, 0] },
    { name: 'active-request: idleThreshold 2', scorer: make(activeRequest, { idleThreshold: 2 }), pods: [{}, {}, {}], inFlight: [2, 3, 6], want: [1, 0.5, 0] },
    { name: 'active-request: maxBusyScore 0.5', scorer: make(activeRequest, { maxBusyScore: 0.5 }), pods: [{}, {}, {}], inFlight: [0, 1, 2], want: [1, 0.25, 0] },
    { name: 'active-request: all idle', scorer: make(activeRequest), pods: [{}, {}], want: [1, 1] },
  ];
  for (const c of cases) {
    const tracker = new LoadTracker(() => 10);
    const pods = c.pods.map((spec, i) => makeEndpoint({ name: `p${i}`, updateTime: 1, ...spec }, tracker));
    (c.inFlight ?? []).forEach((n, i) => {
      for (let k = 0; k < n; k++) tracker.reserve(pods[i]!.key, 10);
    });
    assert.deepEqual(round(c.scorer.score(new MapCycleState(), makeRequest(), pods)), c.want, c.name);
  }
});

test('out-of-range parameters fall back with a warning, as llm-d', () => {
  const h = testHandle();
  make(loadAware, { threshold: -3 }, h);
  make(activeRequest, { maxBusyScore: 7, requestTimeout: '2m' }, h);
  assert.equal(h.warnings.length, 3, h.warnings.join('|'));
});

test('active-request-scorer in a config: its producer is added, in-flight counts rise at pick time and fall on release', () => {
  const { config, cycle, tracker } = cycleFromConfig('plugins:\n- type: active-request-scorer\n');
  assert.deepEqual(config.producers.map((p) => p.type), ['inflight-load-producer']);
  const pods = ['a', 'b', 'c'].map((name) => makeEndpoint({ name, updateTime: 1 }, tracker));
  const picks = Array.from({ length: 6 }, () => cycle.runSync(makeRequest({ prompt: 'x' }), pods));
  assert.deepEqual(pods.map((p) => p.load.inFlightRequests), [2, 2, 2], 'spread by in-flight count');
  for (const o of picks) tracker.release(o.reservation!);
  assert.deepEqual(pods.map((p) => p.load.inFlightRequests), [0, 0, 0]);
});

test('session-affinity-scorer: encoded header — the response names the serving pod; the next request with it scores it 1', () => {
  const scorer = make(session) as SessionAffinityScorer;
  const pods = ['a', 'b'].map((name) => makeEndpoint({ name }));
  const edits = new HeaderEditList();
  const first = makeRequest();
  scorer.responseReceived(first, { status: 200, headers: {} }, pods[1], edits);
  const token = edits.mutation.set.get('x-session-token')!;
  assert.equal(token, encodeEndpoint('default/b'));
  assert.deepEqual(round(scorer.score(new MapCycleState(), makeRequest({ headers: { 'x-session-token': token } }), pods)), [0, 1]);
  assert.deepEqual(round(scorer.score(new MapCycleState(), makeRequest({ headers: { 'x-session-token': '%%%' } }), pods)), [0, 0], 'a bad token binds nothing');
  assert.deepEqual(round(scorer.score(new MapCycleState(), makeRequest(), pods)), [0, 0]);
});

test('session-affinity-scorer: session_id binds at pick time and forgets after the TTL', () => {
  let now = 0;
  const scorer = session.factory(session.type, { strategy: 'session_id', sessionIdConfig: { evictionTtlSeconds: 10 } }, testHandle(testServices(1, () => now))) as SessionAffinityScorer;
  const pods = ['a', 'b'].map((name) => makeEndpoint({ name }));
  const req = makeRequest({ headers: { 'x-session-id': 's1' } });
  scorer.preRequest(req, { primaryProfileName: 'default', profileResults: new Map([['default', { targetEndpoints: [{ endpoint: pods[0]!, score: 1 }] }]]) });
  assert.deepEqual(round(scorer.score(new MapCycleState(), req, pods)), [1, 0]);
  now = 11_000;
  assert.deepEqual(round(scorer.score(new MapCycleState(), req, pods)), [0, 0]);
  assert.throws(() => make(session, { strategy: 'sticky' }), (e: unknown) => e instanceof ConfigError && e.path === 'parameters.strategy');
  assert.throws(() => make(session, { strategy: 'session_id', sessionIdConfig: { sources: [{}] } }), (e: unknown) => e instanceof ConfigError && e.path === 'parameters.sessionIdConfig.sources[0]');
});

test('session-affinity-scorer end to end in a config: the token goes on the response and pins the next request', () => {
  const { config, cycle, tracker } = cycleFromConfig('plugins:\n- type: session-affinity-scorer\n- type: queue-scorer\nschedulingProfiles:\n- name: default\n  plugins:\n  - {pluginRef: session-affinity-scorer, weight: 10}\n  - {pluginRef: queue-scorer}\n');
  assert.equal(config.responseReceived.length, 1);
  const pods = ['a', 'b', 'c'].map((name) => makeEndpoint({ name, updateTime: 1 }, tracker));
  const first = cycle.runSync(makeRequest(), pods);
  const served = primaryTargets(first.result)[0]!.endpoint;
  const edits = new HeaderEditList();
  config.responseReceived[0]!.responseReceived(makeRequest(), { status: 200, headers: {} }, served, edits);
  const token = edits.mutation.set.get('x-session-token')!;
  for (let i = 0; i < 5; i++) {
    const next = cycle.runSync(makeRequest({ headers: { 'x-session-token': token } }), pods);
    assert.equal(primaryTargets(next.result)[0]!.endpoint.key, served.key, 'stays on the session pod despite its load');
  }
});

test('no-hit-lru-scorer: cold requests rotate over least recently used pods; warm ones score 0.5', () => {
  const { config, cycle, tracker } = cycleFromConfig('plugins:\n- type: no-hit-lru-scorer\n  parameters: {lruSize: 2048}\n- type: prefix-cache-scorer\nschedulingProfiles:\n- name: default\n  plugins:\n  - {pluginRef: no-hit-lru-scorer}\n  - {pluginRef: prefix-cache-scorer, weight: 2}\n', testServices(3));
  const lru = config.plugins.get('no-hit-lru-scorer') as NoHitLruScorer;
  assert.equal(lru.lruSize, 2048);
  const pods = ['a', 'b', 'c'].map((name) => makeEndpoint({ name, updateTime: 1 }, tracker));
  const cold = (i: number) => primaryTargets(cycle.runSync(makeRequest({ prompt: `cold prompt ${i} ${'z'.repeat(100)}` }), pods).result)[0]!.endpoint.key;
  const firstThree = [cold(1), cold(2), cold(3)];
  assert.equal(new Set(firstThree).size, 3, 'never-used pods first');
  assert.equal(cold(4), firstThree[0], 'then the least recently used');
  assert.deepEqual(lru.order(), [firstThree[1], firstThree[2], firstThree[0]]);
  // A warm request (its prefix is cached somewhere) scores 0.5 everywhere and leaves the LRU alone.
  const warmPrompt = `cold prompt 4 ${'z'.repeat(100)}`;
  cycle.runSync(makeRequest({ prompt: warmPrompt }), pods);
  assert.deepEqual(lru.order(), [firstThree[1], firstThree[2], firstThree[0]]);
  // Scores of a cold request now: least recently used 1, then 0.5, most recently used 0.
  const order = lru.order();
  const scores = lru.score(new MapCycleState(), makeRequest(), pods);
  assert.deepEqual(round(scores), pods.map((p) => [1, 0.5, 0][order.indexOf(p.key)]!));
});

test('no-hit-lru-scorer alone: never-used pods rank before used ones; one pod scores 1', () => {
  const scorer = make(noHitLru) as NoHitLruScorer;
  const pods = ['a', 'b', 'c', 'd', 'e'].map((name) => makeEndpoint({ name }));
  const result = (e: (typeof pods)[number]) => ({ primaryProfileName: 'd', profileResults: new Map([['d', { targetEndpoints: [{ endpoint: e, score: 1 }] }]]) });
  const cs = new MapCycleState();
  scorer.score(cs, makeRequest(), pods);
  scorer.preRequest(makeRequest(), result(pods[0]!), cs);
  scorer.preRequest(makeRequest(), result(pods[2]!), cs);
  // never used: b, d, e → 1, 0.75, 0.5; used: a (older) → 0.25, c → 0.
  assert.deepEqual(round(scorer.score(new MapCycleState(), makeRequest(), pods)), [0.25, 1, 0, 0.75, 0.5]);
  assert.deepEqual(round(scorer.score(new MapCycleState(), makeRequest(), [pods[0]!])), [1]);
});
