/**
 * The scoring engine: pooled scorers on worker threads decide exactly as inline ones (seeded); a killed or
 * stuck worker mid-task costs a fallback, not the request; an epoch change with tasks in flight scores each
 * task against its own epoch; conflicting cycle-state writers are refused when the scheduler is built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint, EndpointSnapshot } from '../../src/framework/endpoint.js';
import type { ProfileHandler, SchedulingResult } from '../../src/framework/scheduling.js';
import { Registry } from '../../src/framework/registry.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';
import { loadConfig } from '../../src/config/loader.js';
import { ProfileScheduler } from '../../src/scheduling/scheduler.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { nullObserver } from '../../src/scheduling/observer.js';
import { parsePlacement } from '../../src/scheduling/placement.js';
import type { PlacementEvent } from '../../src/scheduling/profile-runner.js';
import { WorkerPool } from '../../src/pool/worker-pool.js';
import { ScoringEngine } from '../../src/pool/scoring-engine.js';
import { pooledPluginSpecs } from '../../src/pool/engine-setup.js';
import { ConfigError } from '../../src/errors.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { HINT_KEY, registration as hashScorer } from '../fixtures/pooled-scorer.js';
import { makeEndpoint, makeRequest, testServices } from '../helpers/fixtures.js';

/** Runs every profile in one pick (they run concurrently); the first is primary. */
const bothAtOnce = {
  type: 'fixture-both-handler',
  factory: (name: string): ProfileHandler => ({
    type: 'fixture-both-handler',
    name,
    pick: (_r, profiles, so) => (so.size > 0 ? [] : [...profiles.values()]),
    processResults: (_r, results) => ({ profileResults: results, primaryProfileName: [...results.keys()][0]! }),
  }),
};

const CONFIG = (hashA = '{}', hashB = '{}') => `
plugins:
- {type: fixture-hash-scorer, name: hash-a, parameters: ${hashA}}
- {type: fixture-hash-scorer, name: hash-b, parameters: ${hashB}}
- {type: kv-cache-utilization-scorer}
- {type: lora-affinity-scorer}
- {type: queue-scorer}
- {type: max-score-picker, parameters: {maxNumOfEndpoints: 2}}
- {type: fixture-both-handler}
schedulingProfiles:
- name: decode
  plugins: [{pluginRef: hash-a, weight: 2}, {pluginRef: kv-cache-utilization-scorer}, {pluginRef: queue-scorer}, {pluginRef: lora-affinity-scorer}]
- name: prefill
  plugins: [{pluginRef: hash-b}, {pluginRef: kv-cache-utilization-scorer, weight: 3}]
`;

/** Stands for the producer of the hint; the tests write the hint into the cycle state themselves. */
const hintProducer = {
  type: 'fixture-hint-producer',
  factory: (name: string) => ({ type: 'fixture-hint-producer', name, produces: [HINT_KEY], consumes: [], produce: () => {} }),
};

function registry(): Registry {
  const r = registerInTreePlugins(new Registry());
  r.register(hashScorer);
  r.register(bothAtOnce);
  r.register(hintProducer);
  r.registerDefaultProducer(HINT_KEY, hintProducer.type);
  return r;
}

function pods(count: number, tracker: LoadTracker, salt = 0): Endpoint[] {
  return Array.from({ length: count }, (_, i) =>
    makeEndpoint({ name: `p${i}`, queue: (i * 7 + salt) % 5, kv: ((i * 13 + salt) % 10) / 10, active: i % 3 === 0 ? ['lora-x'] : [], maxLora: 2 }, tracker),
  );
}

interface Setup {
  scheduler: ProfileScheduler;
  pool: WorkerPool | undefined;
  engine: ScoringEngine | undefined;
  placements: PlacementEvent[];
  fallbacks: string[];
}

function setup(opts: { threads: number; placement: string; hashA?: string; hashB?: string; snapshot: () => EndpointSnapshot; timeoutMs?: number; batch?: boolean }): Setup {
  const reg = registry();
  const config = loadConfig({ configText: CONFIG(opts.hashA, opts.hashB) }, reg, testServices(42), { warn: () => {} });
  const fallbacks: string[] = [];
  const placements: PlacementEvent[] = [];
  let pool: WorkerPool | undefined;
  let engine: ScoringEngine | undefined;
  if (opts.threads > 0) {
    pool = new WorkerPool({ taskTimeoutMs: opts.timeoutMs ?? 5000, watchdogMs: 20, observer: { taskDone: () => {}, fallback: (t, r) => fallbacks.push(`${t}:${r}`) } });
    pool.start(opts.threads, { plugins: pooledPluginSpecs(config, reg, registerInTreePlugins(new Registry())).specs });
    engine = new ScoringEngine({ pool, snapshot: opts.snapshot, batch: opts.batch ?? false });
  }
  const scheduler = new ProfileScheduler(config.scheduler, nullObserver, {
    placement: parsePlacement(opts.placement),
    ...(engine ? { pool: engine } : {}),
    onPlacement: (e) => placements.push(e),
  });
  return { scheduler, pool, engine, placements, fallbacks };
}

/** What a decision is: every profile's picks with scores, and what the pooled scorers wrote. */
function decision(result: SchedulingResult, cs: MapCycleState) {
  return {
    primary: result.primaryProfileName,
    picks: [...result.profileResults].map(([name, r]) => [name, r?.targetEndpoints.map((t) => `${t.endpoint.key}=${t.score.toFixed(12)}`)]),
    writes: [cs.read('hash-a/best'), cs.read('hash-b/best')],
  };
}

async function decide(s: Setup, endpoints: readonly Endpoint[], n: number, prefix = 'q') {
  const out = [];
  for (let i = 0; i < n; i++) {
    const cs = new MapCycleState();
    cs.write(HINT_KEY, `hint-${i % 3}`);
    const request = makeRequest({ requestId: `${prefix}-${i}`, prompt: `question ${i} about ${prefix}`, targetModel: i % 2 ? 'lora-x' : 'base' });
    out.push(decision(await s.scheduler.schedule(request, endpoints, cs), cs));
  }
  return out;
}

test('engine: pooled scorers decide exactly as inline ones, seeded, with two profiles scoring concurrently', async () => {
  const tracker = new LoadTracker();
  const endpoints = pods(12, tracker);
  const snapshot = () => ({ epoch: 1, endpoints });
  const inline = setup({ threads: 0, placement: 'inline', snapshot });
  const pooled = setup({ threads: 2, placement: 'auto,hash-a=pool,hash-b=pool,kv-cache-utilization-scorer=pool', snapshot });
  try {
    assert.equal(inline.scheduler.scheduleSync(makeRequest(), endpoints, new MapCycleState()).primaryProfileName, 'decode', 'inline stays synchronous');
    const first = pooled.scheduler.schedule(makeRequest(), endpoints, new MapCycleState());
    assert.ok(first instanceof Promise, 'pooled scoring is asynchronous');
    await first;
    const want = await decide(inline, endpoints, 40);
    const got = await decide(pooled, endpoints, 40);
    assert.deepEqual(got.slice(1), want.slice(1));
    const where = Object.fromEntries(pooled.placements.map((p) => [`${p.profile}/${p.plugin}`, p.placement]));
    assert.deepEqual(where, {
      'decode/hash-a': 'pool',
      'decode/kv-cache-utilization-scorer': 'pool',
      'decode/queue-scorer': 'inline',
      'decode/lora-affinity-scorer': 'inline',
      'prefill/hash-b': 'pool',
      'prefill/kv-cache-utilization-scorer': 'pool',
    });
    assert.ok(pooled.placements.find((p) => p.plugin === 'queue-scorer')!.why.includes('not pool-capable'));
    assert.deepEqual(pooled.fallbacks, []);
    assert.equal(pooled.engine!.stats.packs, 1, 'one epoch, packed once');
    assert.ok(pooled.engine!.stats.tasks >= 80, 'every cycle sent its profiles to workers');
  } finally {
    await pooled.pool?.close();
  }
});

test('engine: a worker killed mid-task is replaced, its scoring re-run inline, the decision unchanged', async () => {
  const endpoints = pods(8, new LoadTracker());
  const snapshot = () => ({ epoch: 1, endpoints });
  const inline = setup({ threads: 0, placement: 'inline', hashA: '{mode: crash}', snapshot });
  const pooled = setup({ threads: 1, placement: 'hash-a=pool,inline', hashA: '{mode: crash}', snapshot });
  try {
    assert.deepEqual(await decide(pooled, endpoints, 3), await decide(inline, endpoints, 3));
    assert.deepEqual(pooled.fallbacks, ['score:worker-error', 'score:worker-error', 'score:worker-error']);
    assert.equal(pooled.pool!.threads, 1, 'the pool still has its thread');
  } finally {
    await pooled.pool?.close();
  }
});

test('engine: a worker stuck mid-task is cut off after its limit, its scoring re-run inline', async () => {
  const endpoints = pods(8, new LoadTracker());
  const snapshot = () => ({ epoch: 1, endpoints });
  const inline = setup({ threads: 0, placement: 'inline', hashB: '{mode: stuck}', snapshot });
  const pooled = setup({ threads: 1, placement: 'hash-b=pool,inline', hashB: '{mode: stuck}', snapshot, timeoutMs: 150 });
  try {
    assert.deepEqual(await decide(pooled, endpoints, 2), await decide(inline, endpoints, 2));
    assert.deepEqual(pooled.fallbacks, ['score:timeout', 'score:timeout']);
  } finally {
    await pooled.pool?.close();
  }
});

test('engine: an epoch change while tasks are in flight scores each task against its own epoch', async () => {
  const tracker = new LoadTracker();
  const epochs = [pods(10, tracker, 0), pods(10, tracker, 3), pods(11, tracker, 5)];
  let current = 0;
  const snapshot = () => ({ epoch: current + 1, endpoints: epochs[current]! });
  const inline = setup({ threads: 0, placement: 'inline', snapshot });
  const pooled = setup({ threads: 2, placement: 'hash-a=pool,hash-b=pool,kv-cache-utilization-scorer=pool', snapshot, batch: true });
  try {
    const want = [];
    for (let e = 0; e < epochs.length; e++) want.push(...(await decide(inline, epochs[e]!, 6, `e${e}`)));
    // All requests in flight at once; the store moves to the next epoch between each group's dispatch.
    const inFlight: Promise<ReturnType<typeof decision>>[] = [];
    for (let e = 0; e < epochs.length; e++) {
      current = e;
      for (let i = 0; i < 6; i++) {
        const cs = new MapCycleState();
        cs.write(HINT_KEY, `hint-${i % 3}`);
        const request = makeRequest({ requestId: `e${e}-${i}`, prompt: `question ${i} about e${e}`, targetModel: i % 2 ? 'lora-x' : 'base' });
        inFlight.push(Promise.resolve(pooled.scheduler.schedule(request, epochs[e]!, cs)).then((r) => decision(r, cs)));
      }
    }
    current = 2;
    assert.deepEqual(await Promise.all(inFlight), want);
    assert.equal(pooled.engine!.stats.packs, 3, 'each epoch packed once');
    assert.ok(pooled.engine!.stats.tasks < pooled.engine!.stats.jobs, 'jobs ready in one turn shared tasks');
    assert.deepEqual(pooled.fallbacks, []);
  } finally {
    await pooled.pool?.close();
  }
});

test('engine: candidates from an older epoch still score against that epoch', async () => {
  const tracker = new LoadTracker();
  const old = pods(6, tracker, 1);
  const now = pods(6, tracker, 2);
  let snap = { epoch: 1, endpoints: old };
  const pooled = setup({ threads: 1, placement: 'hash-a=pool,inline', snapshot: () => snap });
  const inline = setup({ threads: 0, placement: 'inline', snapshot: () => snap });
  try {
    await pooled.scheduler.schedule(makeRequest(), old, new MapCycleState()); // packs epoch 1
    snap = { epoch: 2, endpoints: now };
    assert.deepEqual(await decide(pooled, old, 3, 'old'), await decide(inline, old, 3, 'old'));
    assert.deepEqual(await decide(pooled, pods(4, tracker, 9), 2, 'own'), await decide(inline, pods(4, tracker, 9), 2, 'own'));
  } finally {
    await pooled.pool?.close();
  }
});

test('engine: two scorers of one profile writing one cycle-state key is a load-time error naming both', () => {
  const reg = registry();
  const config = loadConfig(
    {
      configText: `
plugins:
- {type: fixture-hash-scorer, name: twin}
- {type: queue-scorer}
schedulingProfiles:
- name: default
  plugins: [{pluginRef: twin}, {pluginRef: queue-scorer}]
`,
    },
    reg,
    testServices(),
    { warn: () => {} },
  );
  const profile = config.scheduler.profiles[0]!;
  const clash = { ...profile, scorers: [...profile.scorers, { scorer: { ...profile.scorers[0]!.scorer, name: 'other', writes: ['twin/best'], score: () => [] }, weight: 1 }] };
  assert.throws(
    () => new ProfileScheduler({ profileHandler: config.scheduler.profileHandler, profiles: [clash] }),
    (e: unknown) => e instanceof ConfigError && /scorers "twin" and "other" both write cycle-state key "twin\/best"/.test(e.message),
  );
});

test('engine: with no threads, auto and pool placements stay inline and schedule synchronously', () => {
  const endpoints = pods(4, new LoadTracker());
  const s = setup({ threads: 0, placement: 'pool', snapshot: () => ({ epoch: 1, endpoints }) });
  const result = s.scheduler.schedule(makeRequest(), endpoints, new MapCycleState());
  assert.ok(!(result instanceof Promise));
  assert.ok(s.placements.every((p) => p.placement === 'inline'));
});
