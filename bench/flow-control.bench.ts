/**
 * Flow control's main-thread cost per request with N requests already waiting: each measured step admits
 * one request into a saturated pool whose capacity frees exactly one slot, so the controller enqueues the
 * newcomer and dispatches the oldest, and the queue stays at N. Real policies (FCFS, global-strict,
 * static ceiling) and the real Prometheus observer, as the EPP runs them. Aim (issue #13): ≤ 5 µs per
 * request at 10,000 queued, and flat from 100 to 10,000.
 */
import { Bench } from 'tinybench';
import { Registry } from 'prom-client';
import type { Endpoint } from '../src/framework/endpoint.js';
import type { SaturationDetector } from '../src/framework/saturation.js';
import { FlowController, type AdmissionRequest } from '../src/flowcontrol/controller.js';
import type { BandPolicy, FlowControlSettings } from '../src/flowcontrol/config.js';
import { PromFlowControlMetrics } from '../src/flowcontrol/metrics.js';
import { FcfsOrderingPolicy } from '../src/plugins/fcfs-ordering-policy/index.js';
import { GlobalStrictFairnessPolicy } from '../src/plugins/global-strict-fairness-policy/index.js';
import { RoundRobinFairnessPolicy } from '../src/plugins/round-robin-fairness-policy/index.js';
import { StaticUsageLimitPolicy } from '../src/plugins/static-usage-limit-policy/index.js';
import { makeEndpoint } from '../test/helpers/fixtures.js';

export interface FlowControlRow {
  queued: number;
  fairness: string;
  /** Mean main-thread time of one admit (enqueue) + the dispatch it triggers, µs. */
  meanUs: number;
  p99Us: number;
}

function controllerWith(fairness: 'global-strict' | 'round-robin') {
  const band: BandPolicy = {
    maxRequests: 1e6,
    maxBytes: 1e12,
    ordering: new FcfsOrderingPolicy('fcfs'),
    fairness: fairness === 'global-strict' ? new GlobalStrictFairnessPolicy('f') : new RoundRobinFairnessPolicy('f'),
  };
  const settings: FlowControlSettings = {
    maxRequests: 0,
    maxBytes: 0,
    defaultRequestTTLMs: 3_600_000,
    noEndpointRequestTTLMs: 3_600_000,
    bands: [{ priority: 0, ...band }],
    defaultBand: band,
    defaultNegativeBand: band,
    usageLimit: new StaticUsageLimitPolicy('static', 1),
    enableEviction: false,
  };
  // One free slot at a time: saturation is 0 while `free` > 0, and each dispatch takes the slot.
  const slots = { free: 0 };
  const pool: Endpoint[] = [makeEndpoint({ name: 'p0' })];
  const detector: SaturationDetector = { type: 'bench', name: 'bench', saturation: () => (slots.free > 0 ? 0 : 1) };
  let controller: FlowController | undefined;
  const observer = new PromFlowControlMetrics(new Registry(), 'bench', {
    saturation: () => controller!.saturation(),
    staleEndpoints: () => controller!.staleEndpoints(),
    bands: () => controller!.bands(),
    global: () => controller!.global(),
  });
  controller = new FlowController(settings, { pool: () => pool, detector, observer, hardMaxRequests: 1e6 });
  let seq = 0;
  const dispatch = () => {
    slots.free--;
    return seq;
  };
  const swallow = () => undefined;
  const admit = () => {
    const n = seq++;
    const req: AdmissionRequest = { requestId: `r${n}`, fairnessId: `tenant-${n % 8}`, priority: 0, byteSize: 4096, receivedAt: performance.now(), headers: {}, modelName: 'm', targetModelName: 'm' };
    const r = controller!.admit(req, dispatch);
    if (r instanceof Promise) r.catch(swallow);
  };
  return { controller, slots, admit };
}

export async function runFlowControlBench(sizes = [100, 1_000, 10_000]): Promise<FlowControlRow[]> {
  const rows: FlowControlRow[] = [];
  for (const fairness of ['global-strict', 'round-robin'] as const) {
    for (const queued of sizes) {
      const h = controllerWith(fairness);
      for (let i = 0; i < queued; i++) h.admit();
      if (h.controller.queued !== queued) throw new Error(`expected ${queued} queued, got ${h.controller.queued}`);
      const bench = new Bench({ time: 400, warmupTime: 100 });
      bench.add('admit+dispatch', () => {
        h.slots.free = 1;
        h.admit();
      });
      await bench.run();
      if (h.controller.queued !== queued) throw new Error(`queue drifted: ${h.controller.queued} instead of ${queued}`);
      const lat = (bench.tasks[0]!.result as unknown as { latency: { mean: number; p99: number } }).latency;
      rows.push({ queued, fairness, meanUs: lat.mean * 1000, p99Us: lat.p99 * 1000 });
      h.controller.close();
    }
  }
  return rows;
}

/** The table `npm run bench` and this file print. */
export async function printFlowControlBench(): Promise<void> {
  console.log('\nFlow control: one enqueue + one dispatch with N waiting (main thread, real policies and metrics; aim ≤ 5 µs at 10,000, flat)');
  console.log('  fairness        queued   mean µs    p99 µs');
  for (const r of await runFlowControlBench()) console.log(`  ${r.fairness.padEnd(14)} ${String(r.queued).padStart(7)} ${r.meanUs.toFixed(2).padStart(9)} ${r.p99Us.toFixed(2).padStart(9)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await printFlowControlBench();
