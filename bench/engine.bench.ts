/**
 * The scoring engine's costs, each side by side in one run:
 * - snapshot shipping per epoch at 64 / 256 / 1,024 endpoints: numeric columns in shared memory (what the
 *   engine does), the same plus re-packing the static part (pods came or went), msgpackr of the whole
 *   snapshot, and a structured clone of the endpoint list (what sending it with every task would cost);
 * - the hand-off per pooled scoring task: main-thread time and latency, one request at a time and 16 at
 *   once, with and without batching of same-turn jobs;
 * - 0, 1 and 2 workers with a heavy (500 µs) pool-capable scorer in the default profile;
 * - the default profile at 4 KB, inline against `--workers 2` with `auto` placement (nothing moves).
 */
import { Bench } from 'tinybench';
import { Packr } from 'msgpackr';
import type { Endpoint, EndpointSnapshot } from '../src/framework/endpoint.js';
import { Registry } from '../src/framework/registry.js';
import { registerInTreePlugins } from '../src/plugins/index.js';
import { loadConfig } from '../src/config/loader.js';
import { ProfileScheduler } from '../src/scheduling/scheduler.js';
import { PickCycle } from '../src/director/pick-cycle.js';
import { LoadTracker } from '../src/director/load-tracker.js';
import { seededRandom } from '../src/scheduling/random.js';
import { parsePlacement } from '../src/scheduling/placement.js';
import { WorkerPool } from '../src/pool/worker-pool.js';
import { ScoringEngine } from '../src/pool/scoring-engine.js';
import { SnapshotPacker } from '../src/pool/snapshot-columns.js';
import { pooledPluginSpecs } from '../src/pool/engine-setup.js';
import { syntheticPool, syntheticRequests } from './pool-fixture.js';
import { registration as heavyScorer } from './heavy-scorer.js';

const us = (task: { result?: unknown }) => ((task.result as { latency: { mean: number } }).latency.mean * 1000);

export interface ShippingRow {
  endpoints: number;
  columnsUs: number;
  columnsRepackUs: number;
  msgpackrWholeUs: number;
  structuredCloneUs: number;
}

/** A new epoch of the same pods: new metrics objects (a scrape), same identities. */
function nextEpoch(endpoints: readonly Endpoint[], epoch: number): EndpointSnapshot {
  return { epoch, endpoints: endpoints.map((e) => ({ ...e, metrics: { ...e.metrics, waitingQueueSize: (e.metrics.waitingQueueSize + 1) % 9 } })) };
}

export async function runSnapshotShippingBench(sizes = [64, 256, 1024]): Promise<ShippingRow[]> {
  const rows: ShippingRow[] = [];
  const packr = new Packr({ structuredClone: true });
  for (const n of sizes) {
    const base = syntheticPool(n, new LoadTracker());
    const bench = new Bench({ time: 400, warmupTime: 100 });
    const packer = new SnapshotPacker();
    let epoch = 1;
    packer.pack({ epoch: epoch++, endpoints: base });
    const scraped = nextEpoch(base, 0).endpoints;
    bench.add('columns', () => packer.pack({ epoch: epoch++, endpoints: scraped }));
    let flip = false;
    const moved = [...base.slice(1), base[0]!];
    bench.add('columns+repack', () => packer.pack({ epoch: epoch++, endpoints: (flip = !flip) ? moved : base }));
    bench.add('msgpackr', () => packr.pack(base));
    bench.add('clone', () => structuredClone(base));
    await bench.run();
    const [c, r, m, s] = bench.tasks.map(us);
    rows.push({ endpoints: n, columnsUs: c!, columnsRepackUs: r!, msgpackrWholeUs: m!, structuredCloneUs: s! });
  }
  return rows;
}

const CONFIG = (extra: string) => `
plugins:
- {type: queue-scorer}
- {type: kv-cache-utilization-scorer}
- {type: prefix-cache-scorer}
${extra}
schedulingProfiles:
- name: default
  plugins:
  - {pluginRef: queue-scorer, weight: 2}
  - {pluginRef: kv-cache-utilization-scorer, weight: 2}
  - {pluginRef: prefix-cache-scorer, weight: 3}
${extra ? '  - {pluginRef: heavy}' : ''}
`;

interface Rig {
  cycle: PickCycle;
  tracker: LoadTracker;
  endpoints: Endpoint[];
  pool: WorkerPool;
  engine: ScoringEngine;
}

function rig(threads: number, placement: string, heavy: boolean, endpoints = 64, batch = false): Rig {
  const registry = registerInTreePlugins(new Registry());
  registry.register(heavyScorer);
  const pool = new WorkerPool();
  const services = { random: seededRandom(42), now: Date.now, workerTasks: pool };
  const config = loadConfig({ configText: CONFIG(heavy ? '- {type: bench-heavy-scorer, name: heavy, parameters: {spinUs: 500}}' : '') }, registry, services, { warn: () => {} });
  pool.start(threads, { plugins: pooledPluginSpecs(config, registry, registerInTreePlugins(new Registry())).specs, preloadScoring: true });
  const tracker = new LoadTracker();
  const pods = syntheticPool(endpoints, tracker);
  const engine = new ScoringEngine({ pool, snapshot: () => ({ epoch: 1, endpoints: pods }), batch });
  const scheduler = new ProfileScheduler(config.scheduler, undefined, { placement: parsePlacement(placement), pool: engine });
  const cycle = new PickCycle({ producers: config.producers, scheduler, preRequests: config.preRequests, loadTracker: tracker });
  return { cycle, tracker, endpoints: pods, pool, engine };
}

/** `n` cycles, `concurrency` at a time: main-thread µs per cycle (event-loop utilisation), wall µs per cycle, p99 latency µs. */
async function drive(r: Rig, n: number, concurrency: number, prompts = syntheticRequests(256, 4096)) {
  let next = 0;
  const latencies: number[] = [];
  const one = async () => {
    const req = prompts[next % prompts.length]!;
    const t = performance.now();
    const { reservation } = await r.cycle.run(req, r.endpoints);
    latencies.push((performance.now() - t) * 1000);
    if (reservation) r.tracker.release(reservation);
  };
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next++ < n) await one(); }));
  const wallUs = ((performance.now() - t0) * 1000) / n;
  const elu = performance.eventLoopUtilization(elu0);
  latencies.sort((a, b) => a - b);
  return { mainUs: (elu.active * 1000) / n, wallUs, p99Us: latencies[Math.floor(latencies.length * 0.99)]!, perSec: 1e6 / wallUs };
}

export interface HandOffRow {
  mode: string;
  mainUs: number;
  wallUs: number;
  p99Us: number;
  tasksPerJob: number;
}

/** The default profile with its KV scorer forced onto one worker: what a pooled task costs beyond the inline one. */
export async function runHandOffBench(n = 3000): Promise<HandOffRow[]> {
  const rows: HandOffRow[] = [];
  const cases: [string, number, string, number, boolean][] = [
    ['inline, 1 at a time', 0, 'inline', 1, false],
    ['pooled, 1 at a time', 1, 'kv-cache-utilization-scorer=pool', 1, false],
    ['pooled, 16 at once, unbatched', 1, 'kv-cache-utilization-scorer=pool', 16, false],
    ['pooled, 16 at once, batched', 1, 'kv-cache-utilization-scorer=pool', 16, true],
  ];
  for (const [mode, threads, placement, concurrency, batch] of cases) {
    const r = rig(threads, placement, false, 64, batch);
    try {
      await drive(r, 300, concurrency);
      const before = r.engine.stats;
      const d = await drive(r, n, concurrency);
      const after = r.engine.stats;
      const jobs = after.jobs - before.jobs;
      rows.push({ mode, mainUs: d.mainUs, wallUs: d.wallUs, p99Us: d.p99Us, tasksPerJob: jobs ? (after.tasks - before.tasks) / jobs : 0 });
    } finally {
      await r.pool.close();
    }
  }
  return rows;
}

export interface WorkersRow {
  workers: number;
  perSec: number;
  mainUs: number;
  p99Us: number;
}

/** The default profile plus a 500 µs pool-capable scorer, 8 requests at a time, with 0, 1 and 2 worker threads. */
export async function runWorkersTable(n = 1500): Promise<WorkersRow[]> {
  const rows: WorkersRow[] = [];
  for (const workers of [0, 1, 2]) {
    const r = rig(workers, workers ? 'heavy=pool,auto' : 'inline', true);
    try {
      await drive(r, 200, 8);
      const d = await drive(r, n, 8);
      rows.push({ workers, perSec: d.perSec, mainUs: d.mainUs, p99Us: d.p99Us });
    } finally {
      await r.pool.close();
    }
  }
  return rows;
}

export interface DefaultPathRow {
  mode: string;
  meanUs: number;
  p99Us: number;
}

/** The default profile at 4 KB, 64 endpoints: no pool against 2 threads with `auto` placement, each twice (A B A B) in one tinybench run. */
export async function runDefaultPathBench(): Promise<DefaultPathRow[]> {
  const inline = rig(0, 'auto', false);
  const pooled = rig(2, 'auto', false);
  const prompts = syntheticRequests(512, 4096);
  const bench = new Bench({ time: 1500, warmupTime: 300 });
  let i = 0;
  let j = 0;
  const cases = [['inline (--workers 0)', inline, () => i++], ['--workers 2, auto', pooled, () => j++], ['inline (--workers 0), again', inline, () => i++], ['--workers 2, auto, again', pooled, () => j++]] as const;
  for (const [name, r, next] of cases) {
    bench.add(name, () => {
      const out = r.cycle.run(prompts[next() % prompts.length]!, r.endpoints);
      if (out instanceof Promise) throw new Error('the default profile went asynchronous');
      if (out.reservation) r.tracker.release(out.reservation);
    });
  }
  await bench.run();
  await Promise.all([inline.pool.close(), pooled.pool.close()]);
  return bench.tasks.map((t) => {
    const res = t.result as unknown as { latency: { mean: number; p99: number } };
    return { mode: t.name, meanUs: res.latency.mean * 1000, p99Us: res.latency.p99 * 1000 };
  });
}
