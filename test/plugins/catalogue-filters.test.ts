/** GIE v0.5 filters + decision-tree-filter, prefix-cache-affinity-filter, concurrency-detector: table-driven. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Filter } from '../../src/framework/scheduling.js';
import type { PluginRegistration } from '../../src/framework/plugin.js';
import type { SaturationDetector } from '../../src/framework/saturation.js';
import { primaryTargets } from '../../src/framework/scheduling.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { ConfigError } from '../../src/errors.js';
import { registration as lowQueue } from '../../src/plugins/low-queue-filter/index.js';
import { registration as leastQueue } from '../../src/plugins/least-queue-filter/index.js';
import { registration as leastKv } from '../../src/plugins/least-kv-cache-filter/index.js';
import { registration as loraFilter } from '../../src/plugins/lora-affinity-filter/index.js';
import { registration as concurrency } from '../../src/plugins/concurrency-detector/index.js';
import { registration as affinity } from '../../src/plugins/prefix-cache-affinity-filter/index.js';
import { PREFIX_CACHE_MATCH_KEY, type PrefixMatchInfo } from '../../src/plugins/approx-prefix-cache-producer/index.js';
import { makeEndpoint, makeRequest, testHandle, testServices, type EndpointSpec } from '../helpers/fixtures.js';
import { cycleFromConfig, exampleConfig } from '../helpers/config-cycle.js';

const make = (r: PluginRegistration, params?: unknown, seed = 1) => r.factory(r.type, params, testHandle(testServices(seed))) as Filter;
const names = (f: Filter, pods: ReturnType<typeof makeEndpoint>[], model = 'base-model', cs = new MapCycleState()) =>
  f.filter(cs, makeRequest({ model }), pods).map((e) => e.metadata.name);
const podsOf = (specs: Omit<EndpointSpec, 'name'>[], tracker = new LoadTracker()) => specs.map((s, i) => makeEndpoint({ name: `p${i}`, updateTime: 1, ...s }, tracker));

test('GIE v0.5 filters', () => {
  const cases: { name: string; filter: Filter; pods: Omit<EndpointSpec, 'name'>[]; model?: string; want: string[] }[] = [
    { name: 'low-queue: ≤ 128 by default', filter: make(lowQueue), pods: [{ queue: 128 }, { queue: 129 }, { queue: 0 }], want: ['p0', 'p2'] },
    { name: 'low-queue: threshold 5', filter: make(lowQueue, { threshold: 5 }), pods: [{ queue: 5 }, { queue: 6 }], want: ['p0'] },
    { name: 'least-queue: within (max−min)/n of min (integer)', filter: make(leastQueue), pods: [{ queue: 0 }, { queue: 3 }, { queue: 10 }, { queue: 4 }], want: ['p0'] },
    { name: 'least-queue: 0..9 over 3 → ≤ 3', filter: make(leastQueue), pods: [{ queue: 0 }, { queue: 3 }, { queue: 9 }], want: ['p0', 'p1'] },
    { name: 'least-queue: all equal keeps all', filter: make(leastQueue), pods: [{ queue: 2 }, { queue: 2 }], want: ['p0', 'p1'] },
    { name: 'least-kv-cache: within (max−min)/n of min', filter: make(leastKv), pods: [{ kv: 0.1 }, { kv: 0.3 }, { kv: 0.7 }], want: ['p0', 'p1'] },
    { name: 'lora-affinity: adapter active/waiting wins (threshold 1)', filter: make(loraFilter, { threshold: 1 }), model: 'ad1', pods: [{ active: ['ad1'], maxLora: 2 }, { maxLora: 2 }, { waiting: ['ad1'], maxLora: 1 }], want: ['p0', 'p2'] },
    { name: 'lora-affinity: threshold 0 → free slots', filter: make(loraFilter, { threshold: 0 }), model: 'ad1', pods: [{ active: ['ad1'], maxLora: 2 }, { maxLora: 2 }], want: ['p1'] },
    { name: 'lora-affinity: no affinity → free slots only', filter: make(loraFilter), model: 'ad1', pods: [{ active: ['x', 'y'], maxLora: 2 }, { maxLora: 2 }], want: ['p1'] },
    { name: 'lora-affinity: nothing fits → empty', filter: make(loraFilter), model: 'ad1', pods: [{ active: ['x'], maxLora: 1 }], want: [] },
  ];
  for (const c of cases) assert.deepEqual(names(c.filter, podsOf(c.pods), c.model), c.want, c.name);
});

test('decision-tree-filter: the v0.5 default config routes as GIE v0.5 did', () => {
  const { config, cycle, tracker } = cycleFromConfig(exampleConfig('v05-decision-tree.yaml'), testServices(7));
  const tree = config.scheduler.profiles[0]!.filters[0]!;
  const cases: { name: string; pods: Omit<EndpointSpec, 'name'>[]; model?: string; want: string[] }[] = [
    // Low queues: LoRA affinity → least queue → least KV.
    { name: 'low queues, adapter loaded on p1/p2 → least queue of those → least kv', model: 'ad', pods: [{ queue: 0, kv: 0 }, { queue: 1, active: ['ad'], maxLora: 4, kv: 0.5 }, { queue: 1, active: ['ad'], maxLora: 4, kv: 0.1 }], want: ['p2'] },
    { name: 'low queues, no LoRA anywhere → failure branch keeps all → least queue → least kv', pods: [{ queue: 3, kv: 0 }, { queue: 0, kv: 0.9 }, { queue: 0, kv: 0.2 }], want: ['p2'] },
    // Every queue over 128: least queue first (on all), then LoRA, then KV.
    { name: 'all queues long → least-queue band (≤ 200 + 700/3) → no LoRA → least kv', pods: [{ queue: 300, kv: 0 }, { queue: 200, kv: 0.5 }, { queue: 900, kv: 0 }], want: ['p0'] },
    { name: 'one low queue wins outright', pods: [{ queue: 300 }, { queue: 20, kv: 0.99 }, { queue: 900 }], want: ['p1'] },
  ];
  for (const c of cases) {
    const pods = podsOf(c.pods, tracker);
    assert.deepEqual(names(tree, pods, c.model), c.want, c.name);
    const picked = primaryTargets(cycle.runSync(makeRequest({ model: c.model ?? 'base-model' }), pods).result)[0]!.endpoint.metadata.name;
    assert.ok(c.want.includes(picked), `${c.name}: picked ${picked}`);
    for (const p of pods) tracker.endpointRemoved(p.key);
  }
});

test('decision-tree-filter: configuration errors name the branch', () => {
  const cfg = (tree: string) => `plugins:\n- {type: least-queue-filter}\n- {type: queue-scorer}\n- type: decision-tree-filter\n  parameters: ${tree}\nschedulingProfiles:\n- {name: default, plugins: [{pluginRef: decision-tree-filter}]}\n`;
  const cases: [string, RegExp][] = [
    ['{}', /plugins\[2\]\.parameters\.current: .*a current filter must be specified/],
    ['{current: {}}', /parameters\.current: .*either pluginRef or decisionTree must be specified/],
    ['{current: {pluginRef: nope}}', /parameters\.current\.pluginRef: .*no plugin named "nope"/],
    ['{current: {pluginRef: queue-scorer}}', /parameters\.current\.pluginRef: .*plugin "queue-scorer" \(queue-scorer\) is not a filter/],
    ['{current: {pluginRef: least-queue-filter, decisionTree: {current: {pluginRef: least-queue-filter}}}}', /both pluginRef and decisionTree/],
    ['{current: {pluginRef: least-queue-filter}, nextOnFailure: {decisionTree: {current: {pluginRef: decision-tree-filter}}}}', /nextOnFailure\.decisionTree\.current\.pluginRef: .*"decision-tree-filter" refers back/],
  ];
  for (const [tree, want] of cases) assert.throws(() => cycleFromConfig(cfg(tree)), (e: unknown) => e instanceof ConfigError && want.test(e.message), tree);
});

function withMatches(pods: ReturnType<typeof makeEndpoint>[], matched: number[], total: number): MapCycleState {
  const cs = new MapCycleState();
  const info: PrefixMatchInfo = { hashes: new Float64Array(total), totalBlocks: total, candidates: pods, matched: Int32Array.from(matched) };
  cs.write(PREFIX_CACHE_MATCH_KEY, info);
  return cs;
}

test('prefix-cache-affinity-filter', () => {
  const cases: { name: string; params?: unknown; matched: number[]; inFlightTokens?: number[]; seed?: number; want: string[] }[] = [
    { name: 'keeps pods at ≥ 0.8 of the prefix', matched: [10, 8, 7], want: ['p0', 'p1'] },
    { name: 'none sticky → all', matched: [1, 0, 7], want: ['p0', 'p1', 'p2'] },
    { name: 'affinityThreshold 0.5', params: { affinityThreshold: 0.5 }, matched: [1, 0, 7], want: ['p2'] },
    { name: 'sticky pod too backed up (TTFT penalty over max) → all', params: { maxTTFTPenaltyMs: 1000, peakPrefillThroughput: 1000 }, matched: [10, 0], inFlightTokens: [2000, 0], want: ['p0', 'p1'] },
    { name: 'backlog within the penalty → sticky', params: { maxTTFTPenaltyMs: 1000, peakPrefillThroughput: 1000 }, matched: [10, 0], inFlightTokens: [900, 0], want: ['p0'] },
    { name: 'maxTTFTPenaltyMs 0 disables the gate', params: { maxTTFTPenaltyMs: 0 }, matched: [10, 0], inFlightTokens: [10_000_000, 0], want: ['p0'] },
    { name: 'explorationProbability 1 → all', params: { explorationProbability: 1 }, matched: [10, 0], want: ['p0', 'p1'] },
  ];
  for (const c of cases) {
    const tracker = new LoadTracker();
    const pods = podsOf(c.matched.map(() => ({})), tracker);
    (c.inFlightTokens ?? []).forEach((t, i) => t && tracker.reserve(pods[i]!.key, t));
    assert.deepEqual(names(make(affinity, c.params, c.seed), pods, undefined, withMatches(pods, c.matched, 10)), c.want, c.name);
  }
  for (const [params, path] of [[{ affinityThreshold: 1.5 }, 'parameters.affinityThreshold'], [{ explorationProbability: 2 }, 'parameters.explorationProbability'], [{ ttftSource: 'x' }, 'parameters.ttftSource'], [{ peakPrefillThroughput: 0 }, 'parameters.peakPrefillThroughput']] as const) {
    assert.throws(() => make(affinity, params), (e: unknown) => e instanceof ConfigError && e.path === path, path);
  }
});

test('sticky-until-saturated.yaml: repeats of a prompt stay on its pod until its backlog outweighs the cache', () => {
  const { cycle, tracker } = cycleFromConfig(exampleConfig('sticky-until-saturated.yaml'), testServices(2));
  const pods = podsOf([{}, {}, {}], tracker);
  const prompt = 'a long shared document '.repeat(200); // ~1,150 tokens
  const picks = Array.from({ length: 30 }, () => primaryTargets(cycle.runSync(makeRequest({ prompt }), pods).result)[0]!.endpoint.key);
  const first = picks[0]!;
  // 5,000 ms at 15,928 tokens/s is ~80,000 tokens of backlog: far more than 30 requests; all stay.
  assert.ok(picks.every((k) => k === first), picks.join(','));
  // A big backlog on the sticky pod (but not the others) breaks the stickiness.
  tracker.reserve(first, 200_000);
  const next = primaryTargets(cycle.runSync(makeRequest({ prompt }), pods).result)[0]!.endpoint.key;
  assert.notEqual(next, first);
});

test('concurrency-detector: saturation and filter in each mode', () => {
  const cases: { name: string; params?: unknown; load: [number, number][]; saturation: number; keep: string[] }[] = [
    { name: 'requests: Σ / (n · max)', params: { maxConcurrency: 4 }, load: [[2, 0], [4, 0]], saturation: 0.75, keep: ['p0'] },
    { name: 'requests with headroom 0.5: limit 6', params: { maxConcurrency: 4, headroom: 0.5 }, load: [[5, 0], [6, 0]], saturation: 1.375, keep: ['p0'] },
    { name: 'tokens', params: { concurrencyMode: 'tokens', maxTokenConcurrency: 100 }, load: [[9, 50], [9, 100]], saturation: 0.75, keep: ['p0'] },
    { name: 'hybrid: mean of per-pod max', params: { concurrencyMode: 'hybrid', maxConcurrency: 10, maxTokenConcurrency: 100 }, load: [[5, 10], [1, 90]], saturation: 0.7, keep: ['p0', 'p1'] },
    { name: 'defaults 100 requests', load: [[100, 0], [99, 0]], saturation: 0.995, keep: ['p1'] },
  ];
  for (const c of cases) {
    const tracker = new LoadTracker();
    const pods = podsOf(c.load.map(() => ({})), tracker);
    c.load.forEach(([requests, tokens], i) => {
      for (let k = 0; k < requests; k++) tracker.reserve(pods[i]!.key, k === 0 ? tokens : 0);
    });
    const d = concurrency.factory(concurrency.type, c.params, testHandle()) as SaturationDetector & Filter;
    assert.equal(Math.round(d.saturation(pods) * 1e6) / 1e6, c.saturation, c.name);
    assert.deepEqual(names(d, pods), c.keep, c.name);
  }
  const d = concurrency.factory(concurrency.type, undefined, testHandle()) as SaturationDetector;
  assert.equal(d.saturation([]), 1, 'no candidates is saturated');
  for (const [params, path] of [[{ concurrencyMode: 'x' }, 'parameters.concurrencyMode'], [{ maxConcurrency: 0 }, 'parameters.maxConcurrency'], [{ headroom: -1 }, 'parameters.headroom']] as const) {
    assert.throws(() => concurrency.factory(concurrency.type, params, testHandle()), (e: unknown) => e instanceof ConfigError && e.path === path, path);
  }
});

test('concurrency-detector as the saturationDetector of a config', () => {
  const { config } = cycleFromConfig('plugins:\n- {type: concurrency-detector, parameters: {maxConcurrency: 2}}\n- {type: queue-scorer}\nsaturationDetector: {pluginRef: concurrency-detector}\nschedulingProfiles:\n- {name: default, plugins: [{pluginRef: queue-scorer}]}\n');
  assert.equal(config.plugins.get('concurrency-detector')!.type, 'concurrency-detector');
});
