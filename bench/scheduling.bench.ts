/**
 * In-process scheduling time for the Go EPP's default profile (queue 2, kv 2, prefix 3) on the inline
 * path: one full pick cycle — prefix hashing and matching, filters, scorers, merge, picker, PreRequest
 * (prefix learning) and the in-flight reservation — per request, with a 4 KB prompt.
 */
import { Bench } from 'tinybench';
import { Registry } from '../src/framework/registry.js';
import { registerInTreePlugins } from '../src/plugins/index.js';
import { loadConfig } from '../src/config/loader.js';
import { ProfileScheduler } from '../src/scheduling/scheduler.js';
import { PickCycle } from '../src/director/pick-cycle.js';
import { LoadTracker } from '../src/director/load-tracker.js';
import { seededRandom } from '../src/scheduling/random.js';
import { WorkerPool } from '../src/pool/worker-pool.js';
import { syntheticPool, syntheticRequests } from './pool-fixture.js';

export interface SchedulingRow {
  endpoints: number;
  p50us: number;
  p99us: number;
  meanUs: number;
  opsPerSec: number;
}

/**
 * `configText` (default: the built-in default profile) and `labels` let the same loop time other configs,
 * e.g. examples/configs/pd.yaml over pods half prefill, half decode.
 */
export async function runSchedulingBench(sizes: number[] = [16, 64, 256], promptBytes = 4096, configText?: string, labels?: (i: number) => Record<string, string>): Promise<SchedulingRow[]> {
  const requests = syntheticRequests(512, promptBytes);
  const bench = new Bench({ time: 1500, warmupTime: 300 });
  for (const size of sizes) {
    const services = { random: seededRandom(42), now: Date.now, workerTasks: new WorkerPool() };
    const config = loadConfig(configText ? { configText } : {}, registerInTreePlugins(new Registry()), services, { warn: () => {} });
    const tracker = new LoadTracker();
    const cycle = new PickCycle({
      producers: config.producers,
      scheduler: new ProfileScheduler(config.scheduler),
      preRequests: config.preRequests,
      loadTracker: tracker,
    });
    const pool = syntheticPool(size, tracker, 7, labels);
    let i = 0;
    bench.add(`${size}`, () => {
      const { reservation, secondary } = cycle.runSync(requests[i++ % requests.length]!, pool);
      if (reservation) tracker.release(reservation); // the request "completes", so load stays steady
      for (const r of secondary) tracker.release(r);
    });
  }
  await bench.run();
  return bench.tasks.map((task) => {
    const r = task.result as unknown as { latency: { p50: number; p99: number; mean: number }; throughput: { mean: number } };
    return {
      endpoints: Number(task.name),
      p50us: r.latency.p50 * 1000,
      p99us: r.latency.p99 * 1000,
      meanUs: r.latency.mean * 1000,
      opsPerSec: r.throughput.mean,
    };
  });
}
