/** The flow controller on its own: a fake pool whose saturation the test sets, real policies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../../src/framework/endpoint.js';
import type { SaturationDetector } from '../../src/framework/saturation.js';
import { FlowController, type AdmissionRequest, type CancelHook } from '../../src/flowcontrol/controller.js';
import type { FlowControlSettings, BandPolicy } from '../../src/flowcontrol/config.js';
import { FcfsOrderingPolicy } from '../../src/plugins/fcfs-ordering-policy/index.js';
import { EdfOrderingPolicy } from '../../src/plugins/edf-ordering-policy/index.js';
import { GlobalStrictFairnessPolicy } from '../../src/plugins/global-strict-fairness-policy/index.js';
import { RoundRobinFairnessPolicy } from '../../src/plugins/round-robin-fairness-policy/index.js';
import { StaticUsageLimitPolicy } from '../../src/plugins/static-usage-limit-policy/index.js';
import { PriorityHoldbackPolicy } from '../../src/plugins/priority-holdback-policy/index.js';
import { EppError } from '../../src/errors.js';
import { poolSaturation } from '../../src/flowcontrol/saturation.js';
import { makeEndpoint } from '../helpers/fixtures.js';
import { until } from '../helpers/until.js';

const fcfsBand: BandPolicy = { maxRequests: 5000, maxBytes: 1e9, ordering: new FcfsOrderingPolicy('fcfs'), fairness: new GlobalStrictFairnessPolicy('gs') };

function settings(o: Partial<FlowControlSettings> = {}): FlowControlSettings {
  return {
    maxRequests: 0,
    maxBytes: 0,
    defaultRequestTTLMs: 60_000,
    noEndpointRequestTTLMs: 60_000,
    bands: [{ priority: 0, ...fcfsBand }],
    defaultBand: fcfsBand,
    defaultNegativeBand: fcfsBand,
    usageLimit: new StaticUsageLimitPolicy('static', 1),
    enableEviction: false,
    ...o,
  };
}

/** A pool of one endpoint whose saturation is whatever `sat.value` says; each dispatch adds `perDispatch`. */
function harness(o: Partial<FlowControlSettings> = {}, extra: { hardMaxRequests?: number; hardMaxBytes?: number; sliceMs?: number } = {}) {
  const sat = { value: 1, perDispatch: 0, dispatched: [] as string[] };
  const pool = { endpoints: [makeEndpoint({ name: 'p0' })] as Endpoint[] };
  const detector: SaturationDetector = { type: 'fake', name: 'fake', saturation: (c) => (c.length === 0 ? 1 : sat.value) };
  const fc = new FlowController(settings(o), { pool: () => pool.endpoints, detector, ...extra });
  const admit = (id: string, r: Partial<AdmissionRequest> = {}, cancel?: CancelHook) =>
    fc.admit(
      { requestId: id, fairnessId: 'f', priority: 0, byteSize: 10, receivedAt: performance.now(), headers: {}, modelName: 'm', targetModelName: 'm', ...r },
      () => {
        sat.dispatched.push(id);
        sat.value += sat.perDispatch;
        return id;
      },
      cancel,
    );
  return { fc, sat, pool, admit };
}

const settle = (p: unknown) => Promise.resolve(p).then((v) => ({ ok: v }), (e: unknown) => ({ err: e as EppError }));

test('an unsaturated pool dispatches at once, synchronously; a saturated one queues', async () => {
  const h = harness();
  h.sat.value = 0.5;
  assert.equal(h.admit('now'), 'now', 'dispatched before admit returns');
  h.sat.value = 1;
  const queued = h.admit('later');
  assert.ok(queued instanceof Promise);
  assert.equal(h.fc.queued, 1);
  h.sat.value = 0.2;
  h.fc.kick();
  assert.equal(await queued, 'later');
  assert.equal(h.fc.queued, 0);
  assert.equal(h.fc.timerArmed, false, 'an empty queue holds no timer');
});

test('strict priority: higher bands first; within a band FCFS; a burst fills freed capacity and stops there', async () => {
  const h = harness({ bands: [{ priority: 10, ...fcfsBand }, { priority: 0, ...fcfsBand }] });
  const all = [h.admit('low1', { priority: 0 }), h.admit('neg1', { priority: -5 }), h.admit('high1', { priority: 10 }), h.admit('low2', { priority: 0 }), h.admit('high2', { priority: 10 }), h.admit('new-band', { priority: 3 })];
  assert.equal(h.fc.queued, 6);
  h.sat.value = 0.375;
  h.sat.perDispatch = 0.125; // five dispatches reach 1.0 exactly
  h.fc.kick();
  await until(() => h.sat.dispatched.length === 5, 'five dispatched');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.sat.dispatched, ['high1', 'high2', 'new-band', 'low1', 'low2'], 'strict priority, one burst, stopped at saturation');
  assert.equal(h.fc.queued, 1);
  h.sat.value = 0;
  h.fc.kick();
  await Promise.all(all);
  assert.deepEqual(h.sat.dispatched.slice(5), ['neg1']);
});

test('fairness: round-robin alternates flows where global-strict serves the oldest first', async () => {
  for (const [fairness, want] of [
    [new RoundRobinFairnessPolicy('rr'), ['a1', 'b1', 'a2', 'b2', 'a3', 'b3']],
    [new GlobalStrictFairnessPolicy('gs'), ['a1', 'a2', 'a3', 'b1', 'b2', 'b3']],
  ] as const) {
    const h = harness({ bands: [{ priority: 0, ...fcfsBand, fairness }] });
    const all = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'].map((id) => h.admit(id, { fairnessId: id[0]! }));
    h.sat.value = 0;
    h.fc.kick();
    await Promise.all(all);
    assert.deepEqual(h.sat.dispatched, want, fairness.type);
  }
});

test('EDF: the caller deadline shortens the TTL and orders the band', async () => {
  const edf: BandPolicy = { ...fcfsBand, ordering: new EdfOrderingPolicy('edf') };
  const h = harness({ bands: [{ priority: 0, ...edf }] });
  const now = performance.now();
  const all = [h.admit('none'), h.admit('30s', { deadline: now + 30_000 }), h.admit('5s', { deadline: now + 5_000 })];
  h.sat.value = 0;
  h.fc.kick();
  await Promise.all(all);
  assert.deepEqual(h.sat.dispatched, ['5s', '30s', 'none']);
});

test('caps: band and global requests and bytes, and the hard ceiling, reject with 429 RejectedCapacity', async () => {
  const cases: { name: string; o: Partial<FlowControlSettings>; extra?: { hardMaxRequests?: number; hardMaxBytes?: number }; fits: number; size?: number }[] = [
    { name: 'band maxRequests', o: { bands: [{ priority: 0, ...fcfsBand, maxRequests: 2 }] }, fits: 2 },
    { name: 'band maxBytes', o: { bands: [{ priority: 0, ...fcfsBand, maxBytes: 25 }] }, fits: 2 },
    { name: 'global maxRequests', o: { maxRequests: 3 }, fits: 3 },
    { name: 'global maxBytes', o: { maxBytes: 45 }, fits: 4 },
    { name: 'hard ceiling on requests', o: { maxRequests: 1000 }, extra: { hardMaxRequests: 2 }, fits: 2 },
    { name: 'hard ceiling on bytes', o: {}, extra: { hardMaxBytes: 30 }, fits: 3 },
  ];
  for (const c of cases) {
    const h = harness(c.o, c.extra);
    const queued = [];
    for (let i = 0; i < c.fits; i++) queued.push(h.admit(`q${i}`));
    assert.equal(h.fc.queued, c.fits, c.name);
    assert.throws(
      () => h.admit('over'),
      (e: unknown) => e instanceof EppError && e.code === 'EPP_QUEUE_FULL' && e.message === 'request rejected pre-queue: queue at capacity' && e.headers?.['x-llm-d-request-dropped-reason'] === 'rejected-saturated',
      c.name,
    );
    h.fc.close();
    for (const r of await Promise.all(queued.map(settle))) assert.match((r as { err: EppError }).err.message, /^flow controller shutting down: request evicted from queue: flow controller is not running$/, c.name);
  }
});

test('TTL: expiry is 429 EvictedTTL with the pool up, 503 when it has emptied; noEndpointRequestTTL while empty', async () => {
  const h = harness({ defaultRequestTTLMs: 40, noEndpointRequestTTLMs: 40 });
  const t0 = performance.now();
  const r = await settle(h.admit('a'));
  const err = (r as { err: EppError }).err;
  assert.ok(performance.now() - t0 >= 39, 'not before its TTL');
  assert.equal(err.code, 'EPP_QUEUE_TTL_EXPIRED');
  assert.equal(err.message, 'request timed out in queue: request evicted from queue: request TTL expired');
  assert.equal(err.headers?.['x-llm-d-request-dropped-reason'], 'rejected-ttl-expired');
  assert.equal(h.fc.queued, 0);
  assert.equal(h.fc.timerArmed, false);

  // The pool empties while a request waits: its budget restarts under noEndpointRequestTTL → EvictedNoEndpoints, 503.
  const h2 = harness({ defaultRequestTTLMs: 0, noEndpointRequestTTLMs: 40 });
  const waiting = settle(h2.admit('b'));
  h2.pool.endpoints = [];
  h2.fc.kick();
  const e2 = ((await waiting) as { err: EppError }).err;
  assert.equal(e2.code, 'EPP_QUEUE_UNAVAILABLE');
  assert.equal(e2.message, 'request timed out in queue and no endpoints are available: request evicted from queue: request TTL expired: no endpoints available');
  assert.equal(e2.headers?.['x-llm-d-request-dropped-reason'], 'rejected-no-endpoints');

  // Caps hit while the pool is empty: 503 RejectedNoEndpoints.
  const h3 = harness({ bands: [{ priority: 0, ...fcfsBand, maxRequests: 1 }] });
  h3.pool.endpoints = [];
  const first = settle(h3.admit('c'));
  assert.throws(() => h3.admit('d'), (e: unknown) => e instanceof EppError && e.code === 'EPP_QUEUE_UNAVAILABLE' && e.message === 'no endpoints available: request rejected pre-queue: no endpoints available');
  h3.fc.close();
  await first;
});

test('cancel: a queued request leaves at once and frees its place; one cancelled before admission is refused', async () => {
  const h = harness({ bands: [{ priority: 0, ...fcfsBand, maxRequests: 1 }] });
  const hook: CancelHook = { onCancel: undefined };
  const p = settle(h.admit('gone', {}, hook));
  assert.equal(typeof hook.onCancel, 'function');
  hook.onCancel!();
  const err = ((await p) as { err: EppError }).err;
  assert.equal(err.message, 'client disconnected: request evicted from queue: request context cancelled: context canceled');
  assert.equal(h.fc.queued, 0);
  assert.equal(h.fc.queuedBytes, 0);
  assert.equal(hook.onCancel, undefined, 'the hook is released');
  const next = h.admit('next');
  assert.ok(next instanceof Promise, 'the freed place takes a new request');
  assert.throws(() => h.admit('pre', {}, { onCancel: undefined, cancelled: true }), /client disconnected: request rejected pre-queue/);
  h.fc.close();
  await settle(next);
});

test('a long burst yields to the event loop and keeps its order', async () => {
  const h = harness({}, { sliceMs: 0 });
  const all = [];
  for (let i = 0; i < 200; i++) all.push(h.admit(`r${i}`));
  h.sat.value = 0;
  let turns = 0;
  let counting = true;
  const count = () => {
    turns++;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  h.fc.kick();
  await Promise.all(all);
  counting = false;
  assert.deepEqual(h.sat.dispatched, all.map((_, i) => `r${i}`));
  assert.ok(turns > 0, 'other work ran while the burst was dispatched');
});

test('priority-holdback: a low band stops at its lower ceiling while the high band goes on', async () => {
  const h = harness({ bands: [{ priority: 1, ...fcfsBand }, { priority: 0, ...fcfsBand }], usageLimit: new PriorityHoldbackPolicy('hb', { minCeiling: 0.5, maxCeiling: 1, domain: 'rank', shape: 'linear' }) });
  const low = settle(h.admit('low', { priority: 0 }));
  const high = settle(h.admit('high', { priority: 1 }));
  h.sat.value = 0.7;
  h.fc.kick();
  await high;
  assert.deepEqual(h.sat.dispatched, ['high']);
  assert.equal(h.fc.queued, 1, 'the low band is held back at 0.7 ≥ 0.5');
  h.sat.value = 0.4;
  h.fc.kick();
  await low;
  assert.deepEqual(h.sat.dispatched, ['high', 'low']);
});

test('a dispatch that throws rejects only its own request', async () => {
  const h = harness();
  const p = settle(
    h.fc.admit({ requestId: 'x', fairnessId: 'f', priority: 0, byteSize: 1, receivedAt: 0, headers: {}, modelName: 'm', targetModelName: 'm' }, () => {
      throw new Error('no candidates');
    }),
  );
  const ok = h.admit('ok');
  h.sat.value = 0;
  h.fc.kick();
  assert.equal(((await p) as { err: Error }).err.message, 'no candidates');
  assert.equal(await ok, 'ok');
});

test('role groups: prefill and decode saturation, the larger gates; an empty pool is 1', () => {
  const detector: SaturationDetector = { type: 'd', name: 'd', saturation: (c) => c.reduce((s, e) => s + e.metrics.waitingQueueSize, 0) / c.length / 10 };
  const ep = (name: string, role: string | undefined, queue: number) => makeEndpoint({ name, queue, ...(role === undefined ? {} : { labels: { 'llm-d.ai/role': role } }) });
  const out = { prefill: -1, decode: -1, effective: 0 };
  const cases: { name: string; pool: Endpoint[]; want: [number, number, number] }[] = [
    { name: 'no labels: all decode', pool: [ep('a', undefined, 2), ep('b', undefined, 4)], want: [-1, 0.3, 0.3] },
    { name: 'split', pool: [ep('p', 'prefill', 8), ep('d', 'decode', 2), ep('x', '', 4)], want: [0.8, 0.3, 0.8] },
    { name: 'both roles count in both groups; encode and unknown are left out', pool: [ep('b', 'both', 6), ep('e', 'encode', 100), ep('u', 'weird', 100), ep('d', 'decode', 0)], want: [0.6, 0.3, 0.6] },
    { name: 'only unknown roles: the whole pool', pool: [ep('u', 'weird', 5)], want: [-1, -1, 0.5] },
    { name: 'empty pool', pool: [], want: [-1, -1, 1] },
  ];
  for (const c of cases) {
    const detectorOrEmpty: SaturationDetector = { ...detector, saturation: (e) => (e.length === 0 ? 1 : detector.saturation(e)) };
    const s = poolSaturation(c.pool, detectorOrEmpty, out);
    assert.deepEqual([s.prefill, s.decode, s.effective].map((v) => Math.round(v * 100) / 100), c.want, c.name);
  }
});
