/** program-aware-fairness: least attained service first, head wait as the tiebreaker, decay, usage, eviction. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FairnessPolicy, OrderingPolicy } from '../../src/framework/flow-control.js';
import { registration as fcfs } from '../../src/plugins/fcfs-ordering-policy/index.js';
import { DEFAULT_CONFIG, ProgramAwareFairness, registration } from '../../src/plugins/program-aware-fairness/index.js';
import { Band, QueueItem } from '../../src/flowcontrol/queues.js';
import { ConfigError } from '../../src/errors.js';
import { makeRequest, testHandle, testServices } from '../helpers/fixtures.js';
import { cycleFromConfig } from '../helpers/config-cycle.js';
import { buildFlowControlSettings } from '../../src/flowcontrol/config.js';
import { Registry } from '../../src/framework/registry.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';

/** A policy on fake clocks: `t.wall` / `t.mono` in ms. */
function policy(config = DEFAULT_CONFIG) {
  const t = { wall: 1_000_000, mono: 10_000 };
  const p = new ProgramAwareFairness('pa', { ...config, evictionTtlSeconds: 0 }, { wall: () => t.wall, mono: () => t.mono });
  return { p, t };
}

/** A band whose flows hold one request each, enqueued at the given mono time. */
function band(p: FairnessPolicy, heads: Record<string, number>): Band {
  const ordering = fcfs.factory('fcfs', undefined, testHandle()) as OrderingPolicy;
  const b = new Band(0, ordering, p, 100, 1e9, true);
  let seq = 0;
  for (const [id, at] of Object.entries(heads)) {
    const flow = b.flowFor(id);
    flow.queue.push(new QueueItem(seq++, `${id}-r`, id, 0, at, 0, Infinity, at, 0, {}, flow, () => undefined, undefined));
  }
  return b;
}

const done = (p: ProgramAwareFairness, program: string, promptTokens: number, completionTokens: number) =>
  p.responseComplete(makeRequest({ headers: { 'x-llm-d-inference-fairness-id': program } }), { kind: 'success', usage: { promptTokens, completionTokens, cachedPromptTokens: 0 } });

test('program-aware-fairness picks', () => {
  const cases: { name: string; served: Record<string, [number, number]>; heads: Record<string, number>; want: string }[] = [
    { name: 'cold start, equal waits: the first flow (all scores equal)', served: {}, heads: { a: 9_000, b: 9_000 }, want: 'a' },
    { name: 'cold start: the older head wins on wait alone', served: {}, heads: { a: 9_500, b: 9_000 }, want: 'b' },
    { name: 'least attained service wins over a longer wait (0.8 against 0.2)', served: { a: [1000, 0] }, heads: { a: 5_000, b: 9_999 }, want: 'b' },
    { name: 'output tokens count twice: 100 + 2·500 > 1000', served: { a: [1000, 0], b: [100, 500] }, heads: { a: 9_000, b: 9_000 }, want: 'a' },
    { name: 'the default program (no header) is a program like any', served: { 'default-flow': [10, 0] }, heads: { 'default-flow': 9_000, x: 9_000 }, want: 'x' },
  ];
  for (const c of cases) {
    const { p } = policy();
    for (const [id, [pt, ct]] of Object.entries(c.served)) done(p, id, pt, ct);
    assert.equal(p.pick(band(p, c.heads))?.id, c.want, c.name);
  }
});

test('program-aware-fairness: service decays with the half-life (0 turns decay off); errors add no service but end the in-flight count', () => {
  const { p, t } = policy();
  done(p, 'a', 1000, 500);
  assert.equal(p.service('a'), 2000);
  t.wall += 60_000;
  assert.equal(p.service('a'), 1000, 'one half-life');
  t.wall += 120_000;
  assert.equal(p.service('a'), 250, 'three half-lives in all');

  const flat = policy({ ...DEFAULT_CONFIG, halfLifeSeconds: 0 });
  done(flat.p, 'a', 10, 0);
  flat.t.wall += 3_600_000;
  done(flat.p, 'a', 10, 0);
  assert.equal(flat.p.service('a'), 20);

  const r = makeRequest({ headers: { 'x-gateway-inference-fairness-id': 'g' } });
  p.preRequest(r);
  p.responseComplete(r, { kind: 'error', code: 'ResourceExhausted' as never, status: 429 });
  assert.equal(p.service('g'), 0);
});

test('program-aware-fairness: idle programs are forgotten after the TTL, never one with requests in flight', () => {
  const t = { wall: 0, mono: 0 };
  const p = new ProgramAwareFairness('pa', { ...DEFAULT_CONFIG, evictionTtlSeconds: 10 }, { wall: () => t.wall, mono: () => t.mono });
  try {
    done(p, 'idle', 1, 1);
    const busy = makeRequest({ headers: { 'x-llm-d-inference-fairness-id': 'busy' } });
    p.preRequest(busy);
    t.wall = 10_000;
    p.evictIdle();
    assert.equal(p.programs, 2, 'not past the TTL yet');
    t.wall = 10_001;
    p.evictIdle();
    assert.equal(p.programs, 1);
    assert.equal(p.service('idle'), undefined);
    p.responseComplete(busy, { kind: 'disconnect' });
    t.wall = 20_002;
    p.evictIdle();
    assert.equal(p.programs, 0);
  } finally {
    p.close();
  }
});

test("program-aware-fairness: Jain's index over the programs' mean queue waits", () => {
  const { p, t } = policy({ ...DEFAULT_CONFIG, weightService: 0, weightHeadWait: 1 });
  assert.equal(p.fairnessIndex(), 1, 'no programs');
  t.mono = 10_030;
  assert.equal(p.pick(band(p, { a: 10_000, b: 10_020 }))?.id, 'a'); // a waited 30 ms
  t.mono = 10_040;
  assert.equal(p.pick(band(p, { b: 10_030 }))?.id, 'b'); // b waited 10 ms
  assert.equal(p.fairnessIndex(), (40 * 40) / (2 * (30 * 30 + 10 * 10)));
});

test('program-aware-fairness parameters: llm-d defaults; bad values are ConfigErrors naming the parameter', () => {
  const cases: { params: unknown; message: RegExp }[] = [
    { params: { strategy: 'wfq' }, message: /^parameters\.strategy: unknown scoring strategy: only "las" is supported, got "wfq"/ },
    { params: { evictionSweepSeconds: 0 }, message: /^parameters\.evictionSweepSeconds: evictionSweepSeconds must be > 0, got 0/ },
    { params: { lasWeightService: -1 }, message: /^parameters\.lasWeightService: lasWeightService must be >= 0, got -1/ },
    { params: { lasHalfLifeSeconds: 'soon' }, message: /^parameters\.lasHalfLifeSeconds: must be a number >= 0, got "soon"/ },
  ];
  for (const c of cases) {
    assert.throws(() => registration.factory('pa', c.params, testHandle(testServices())), (e: unknown) => e instanceof ConfigError && c.message.test(e.message), JSON.stringify(c.params));
  }
  (registration.factory('pa', { strategy: 'las', lasWeightService: 0.8, lasWeightHeadWait: 0.2, lasHalfLifeSeconds: 60, evictionTtlSeconds: 0, evictionSweepSeconds: 300 }, testHandle()) as ProgramAwareFairness).close();
});

test("program-aware-fairness: llm-d's sim-program-aware-config.yaml loads unmodified; the policy is the default band's and a PreRequest / ResponseComplete plugin", () => {
  const text = `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: program-aware-fairness
- type: queue-scorer
- type: max-score-picker
- type: single-profile-handler

featureGates:
- flowControl

flowControl:
  defaultPriorityBand:
    fairnessPolicyRef: program-aware-fairness

schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
  - pluginRef: max-score-picker
`;
  const { config, warnings } = cycleFromConfig(text);
  const plugin = config.plugins.get('program-aware-fairness') as ProgramAwareFairness;
  try {
    assert.ok(plugin instanceof ProgramAwareFairness);
    assert.ok(config.preRequests.includes(plugin));
    assert.ok(config.responseComplete.includes(plugin));
    const settings = buildFlowControlSettings(config, registerInTreePlugins(new Registry()), testServices(), { warn: (m) => warnings.push(m) });
    assert.equal(settings?.defaultBand.fairness, plugin);
    assert.deepEqual(warnings, []);
  } finally {
    plugin.close();
  }
});
