/** Flow-control policy plugins: ordering, fairness and usage-limit policies, table-driven. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PluginRegistration } from '../../src/framework/plugin.js';
import type { FairnessPolicy, OrderingPolicy, QueuedRequest, UsageLimitPolicy } from '../../src/framework/flow-control.js';
import { registration as fcfs } from '../../src/plugins/fcfs-ordering-policy/index.js';
import { registration as edf } from '../../src/plugins/edf-ordering-policy/index.js';
import { registration as slo } from '../../src/plugins/slo-deadline-ordering-policy/index.js';
import { registration as globalStrict } from '../../src/plugins/global-strict-fairness-policy/index.js';
import { registration as roundRobin } from '../../src/plugins/round-robin-fairness-policy/index.js';
import { registration as staticLimit } from '../../src/plugins/static-usage-limit-policy/index.js';
import { registration as holdback } from '../../src/plugins/priority-holdback-policy/index.js';
import { registration as softReflective } from '../../src/plugins/soft-reflective-ceiling-policy/index.js';
import { Band } from '../../src/flowcontrol/queues.js';
import { QueueItem } from '../../src/flowcontrol/queues.js';
import { ConfigError } from '../../src/errors.js';
import { testHandle, testServices } from '../helpers/fixtures.js';

const make = <T>(r: PluginRegistration, params?: unknown) => r.factory(r.type, params, testHandle(testServices(1))) as T;

const req = (o: Partial<QueuedRequest> & { id: string }): QueuedRequest => ({
  requestId: o.id,
  fairnessId: o.fairnessId ?? 'f',
  priority: o.priority ?? 0,
  enqueuedAt: o.enqueuedAt ?? 0,
  ttlMs: o.ttlMs ?? 0,
  receivedAt: o.receivedAt ?? 0,
  byteSize: o.byteSize ?? 0,
  headers: o.headers ?? {},
});

/** The ids of `items` in the policy's order. */
const ordered = (p: OrderingPolicy, items: QueuedRequest[]) => [...items].sort((a, b) => (p.less(a, b) ? -1 : p.less(b, a) ? 1 : 0)).map((r) => r.requestId);

test('ordering policies', () => {
  const cases: { name: string; policy: OrderingPolicy; items: QueuedRequest[]; want: string[] }[] = [
    { name: 'fcfs: enqueue order', policy: make(fcfs), items: [req({ id: 'b', enqueuedAt: 2 }), req({ id: 'a', enqueuedAt: 1 }), req({ id: 'c', enqueuedAt: 3 })], want: ['a', 'b', 'c'] },
    {
      name: 'edf: enqueue + TTL, earliest first',
      policy: make(edf),
      items: [req({ id: 'long', enqueuedAt: 0, ttlMs: 60_000 }), req({ id: 'short', enqueuedAt: 10, ttlMs: 1_000 }), req({ id: 'mid', enqueuedAt: 5, ttlMs: 30_000 })],
      want: ['short', 'mid', 'long'],
    },
    {
      name: 'edf: no TTL sorts last; equal deadlines FCFS',
      policy: make(edf),
      items: [req({ id: 'none', enqueuedAt: 0, ttlMs: 0 }), req({ id: 'b', enqueuedAt: 2, ttlMs: 8 }), req({ id: 'a', enqueuedAt: 1, ttlMs: 9 })],
      want: ['a', 'b', 'none'],
    },
    {
      name: 'slo-deadline: received + x-llm-d-slo-ttft-ms, alias read when absent, missing or bad last',
      policy: make(slo),
      items: [
        req({ id: 'none', receivedAt: 0 }),
        req({ id: 'tight', receivedAt: 100, headers: { 'x-llm-d-slo-ttft-ms': '50' } }),
        req({ id: 'alias', receivedAt: 0, headers: { 'x-slo-ttft-ms': '500' } }),
        req({ id: 'bad', receivedAt: 1, headers: { 'x-llm-d-slo-ttft-ms': '-5' } }),
        req({ id: 'frac', receivedAt: 2, headers: { 'x-llm-d-slo-ttft-ms': '1.5' } }),
        req({ id: 'both', receivedAt: 0, headers: { 'x-llm-d-slo-ttft-ms': '400', 'x-slo-ttft-ms': '1' } }),
      ],
      want: ['tight', 'both', 'alias', 'none', 'bad', 'frac'],
    },
  ];
  for (const c of cases) assert.deepEqual(ordered(c.policy, c.items), c.want, c.name);
});

/** A band with flows holding the given request ids (enqueuedAt = the number in the id's position). */
function band(fairness: FairnessPolicy, flows: Record<string, number[]>): Band {
  const b = new Band(0, make<OrderingPolicy>(fcfs), fairness, 100, 1e9, true);
  let seq = 0;
  for (const [id, times] of Object.entries(flows)) {
    const flow = b.flowFor(id);
    for (const t of times) flow.queue.push(new QueueItem(seq++, `${id}${t}`, id, 0, t, 0, Infinity, t, 0, {}, flow, () => undefined, undefined));
  }
  return b;
}

/** Picks `n` times, removing each picked head, and returns the request ids. */
function drain(b: Band, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const flow = b.fairness.pick(b) as ReturnType<Band['flowFor']> | undefined;
    if (!flow) break;
    const item = flow.queue.pop()!;
    if (flow.queue.size === 0) b.dropFlow(flow);
    out.push(item.requestId);
  }
  return out;
}

test('fairness policies', () => {
  const cases: { name: string; policy: FairnessPolicy; flows: Record<string, number[]>; want: string[] }[] = [
    { name: 'global-strict: oldest head across flows', policy: make(globalStrict), flows: { a: [1, 2, 5], b: [3, 4] }, want: ['a1', 'a2', 'b3', 'b4', 'a5'] },
    { name: 'round-robin: flows take turns by ID', policy: make(roundRobin), flows: { b: [1, 2, 3], a: [4, 5], c: [6] }, want: ['a4', 'b1', 'c6', 'a5', 'b2', 'b3'] },
    { name: 'round-robin: one flow', policy: make(roundRobin), flows: { x: [1, 2] }, want: ['x1', 'x2'] },
    { name: 'any: an empty band picks nothing', policy: make(globalStrict), flows: {}, want: [] },
  ];
  for (const c of cases) assert.deepEqual(drain(band(c.policy, c.flows), 10), c.want, c.name);
});

test('round-robin: a flow that empties leaves the rotation and rejoins in its ID place', () => {
  const b = band(make(roundRobin), { a: [1], b: [2, 3], c: [4] });
  assert.deepEqual(drain(b, 2), ['a1', 'b2']);
  // a is gone; a new "a" request joins; the cursor is on b, so c goes next, then a, then b.
  const flow = b.flowFor('a');
  flow.queue.push(new QueueItem(99, 'a9', 'a', 0, 9, 0, Infinity, 9, 0, {}, flow, () => undefined, undefined));
  assert.deepEqual(drain(b, 5), ['c4', 'a9', 'b3']);
});

test('usage-limit policies', () => {
  const limits = (p: UsageLimitPolicy, s: number, priorities: number[]) => {
    const ceilings = priorities.map(() => 1);
    p.computeLimit(s, priorities, ceilings);
    return ceilings.map((c) => Math.round(c * 1000) / 1000);
  };
  const cases: { name: string; policy: UsageLimitPolicy; s: number; priorities: number[]; want: number[] }[] = [
    { name: 'static: default 1.0', policy: make(staticLimit), s: 0.5, priorities: [10, 0, -1], want: [1, 1, 1] },
    { name: 'static: threshold', policy: make(staticLimit, { threshold: 0.8 }), s: 0.5, priorities: [10, 0], want: [0.8, 0.8] },
    { name: 'holdback rank: linear by position', policy: make(holdback, { minCeiling: 0.4 }), s: 0, priorities: [100, 50, 0, -10], want: [1, 0.8, 0.6, 0.4] },
    { name: 'holdback value: proportional to priority', policy: make(holdback, { minCeiling: 0.5, domain: 'value' }), s: 0, priorities: [100, 50, -100], want: [1, 0.875, 0.5] },
    { name: 'holdback: one band gets maxCeiling', policy: make(holdback, { minCeiling: 0.2, maxCeiling: 0.9 }), s: 0, priorities: [0], want: [0.9] },
    { name: 'soft-reflective: low saturation, all open', policy: make(softReflective), s: 0.2, priorities: [2, 1, 0], want: [1, 1, 1] },
    { name: 'soft-reflective: saturated, only the top band', policy: make(softReflective), s: 1, priorities: [2, 1, 0], want: [1, 0, 0] },
    { name: 'soft-reflective: one band', policy: make(softReflective), s: 2, priorities: [5], want: [1] },
  ];
  for (const c of cases) assert.deepEqual(limits(c.policy, c.s, c.priorities), c.want, c.name);
});

test('soft-reflective: in the alternating regime the lower bands open once every round(s/(1-s)) cycles', () => {
  const p = make<UsageLimitPolicy>(softReflective);
  const opened: boolean[] = [];
  for (let i = 0; i < 12; i++) {
    const ceilings = [1, 1];
    p.computeLimit(0.75, [1, 0], ceilings); // period round(0.75/0.25) = 3; band 1's reflective point 0.25 ≤ s
    opened.push(ceilings[1] === 1);
  }
  assert.equal(opened.filter(Boolean).length, 4);
  assert.deepEqual(opened.slice(0, 6), [false, false, true, false, false, true]);
});

test('policy parameters: bad values are ConfigErrors naming the parameter', () => {
  const cases: { name: string; r: PluginRegistration; params: unknown; message: RegExp }[] = [
    { name: 'holdback without minCeiling', r: holdback, params: {}, message: /^parameters\.minCeiling: is required/ },
    { name: 'holdback minCeiling ≥ 1', r: holdback, params: { minCeiling: 1 }, message: /^parameters\.minCeiling: must be in \[0\.0, 1\.0\), got 1/ },
    { name: 'holdback min ≥ max', r: holdback, params: { minCeiling: 0.5, maxCeiling: 0.5 }, message: /must be strictly less than maxCeiling/ },
    { name: 'holdback bad domain', r: holdback, params: { minCeiling: 0.1, domain: 'log' }, message: /^parameters\.domain: unsupported domain "log"/ },
    { name: 'holdback bad shape', r: holdback, params: { minCeiling: 0.1, shape: 'cubic' }, message: /^parameters\.shape: unsupported shape "cubic"/ },
    { name: 'static threshold not a number', r: staticLimit, params: { threshold: 'high' }, message: /^parameters\.threshold: must be a number, got "high"/ },
  ];
  for (const c of cases) {
    assert.throws(() => make(c.r, c.params), (e: unknown) => e instanceof ConfigError && c.message.test(e.message), c.name);
  }
});
