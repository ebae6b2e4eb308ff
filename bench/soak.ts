/**
 * Endurance: `npm run bench:soak [-- minutes]` (default 10). The EPP (default profile, file discovery
 * watched) over 24 pods, driven by the varied-prompt client at ~80% of the throughput it measured first
 * (its floor on this machine, now), 4 KB prompts, while every 10 s the pool changes under it: a pod leaves
 * the endpoints file and a spare one joins, one pod's metrics hang for 20 s, one serves garbage, one answers
 * 500; and 5% of the calls are cancelled by the client right after the routing answer. It holds that no call
 * fails but those the faults call for (the cancelled ones), that in-flight counts and open streams are
 * back to 0 at the end, and prints the RSS and heap slope after warm-up (20% of the run, at least a minute,
 * at most half), sampled every 10 s right after a full GC. Exit code 1 when a check fails.
 */
import type { ChildProcess } from 'node:child_process';
import { ask } from './child-control.js';
import { spawnNode, stop } from './server.bench.js';
import { seededRandom } from '../src/scheduling/random.js';
import type { ReplayOptions, ReplayResult } from './replay-client.js';

const minutes = Number(process.argv[2] ?? process.env['SOAK_MINUTES'] ?? 10);
const ACTIVE = 24;
const SPARE = 8;
const STEP_MS = 10_000;
const PROMPT_BYTES = 4096;
const SHARED = 1024;

interface State {
  inFlight: number;
  openStreams: number;
  endpoints: number;
  rss: number;
  heapUsed: number;
}

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Least-squares slope of y over x. */
function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const sxy = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return sxy / sxx;
}

const children = new Set<ChildProcess>();
let exitCode = 0;
try {
  const pages = await spawnNode<number[]>('./fault-pages.js', [String(ACTIVE + SPARE)], children);
  const ports = pages.info;
  const names = ports.map((_p, i) => `pod-${i}`);
  let active = names.slice(0, ACTIVE).map((n, i) => [n, ports[i]!] as [string, number]);
  let spare = names.slice(ACTIVE).map((n, i) => [n, ports[ACTIVE + i]!] as [string, number]);
  const epp = await spawnNode<{ grpcPort: number }>('./epp-server.js', [JSON.stringify(ports.slice(0, ACTIVE))], children, 30_000, process.env, ['--expose-gc']);
  const port = epp.info.grpcPort;
  const client = (o: Partial<ReplayOptions>, ms: number) =>
    spawnNode<ReplayResult>('./replay-client.js', [JSON.stringify({ port, promptBytes: PROMPT_BYTES, sharedBytes: SHARED, connections: 4, streams: 4, ...o })], children, ms).then((r) => r.info);

  // The floor now: as fast as it answers, 4 × 4 calls in flight.
  await client({ requests: 2000, firstId: 0 }, 60_000); // warm-up
  const floor = await client({ requests: 6000, firstId: 1e6 }, 120_000);
  const rps = Math.round(floor.reqPerSec * 0.8);
  console.log(`floor: ${floor.reqPerSec.toFixed(0)} req/s (${floor.failed} failed); soaking ${minutes} min at ${rps} req/s, 4 KB prompts, ${ACTIVE} pods (+${SPARE} spare), 5% cancelled`);

  const durationMs = minutes * 60_000;
  const soak = client({ requests: Number.MAX_SAFE_INTEGER, rps, durationMs, streams: 16, cancelFraction: 0.05, firstId: 1e7 }, durationMs + 120_000);
  const random = seededRandom(42);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random.next() * list.length)]!;
  const samples: { t: number; s: State }[] = [];
  const recover: { at: number; pod: number }[] = [];
  const start = performance.now();
  let faults = { moved: 0, hung: 0, garbage: 0, errors: 0 };
  for (let step = 1; performance.now() - start < durationMs - STEP_MS / 2; step++) {
    await sleep(start + step * STEP_MS - performance.now());
    const now = performance.now() - start;
    for (const r of recover.filter((r) => r.at <= now)) await ask(pages.child, `mode ${r.pod} good`);
    recover.splice(0, recover.length, ...recover.filter((r) => r.at > now));
    // A pod leaves, a spare one joins.
    const leaving = pick(active);
    const joining = pick(spare);
    active = [...active.filter((a) => a !== leaving), joining];
    spare = [...spare.filter((s) => s !== joining), leaving];
    await ask(epp.child, `endpoints ${JSON.stringify(active)}`);
    faults.moved++;
    // Faults on pods in the pool, each for 20 s.
    for (const mode of ['hang', 'garbage', 'error'] as const) {
      const pod = names.indexOf(pick(active)[0]);
      await ask(pages.child, `mode ${pod} ${mode}`);
      recover.push({ at: now + 2 * STEP_MS, pod });
      if (mode === 'hang') faults.hung++;
      else if (mode === 'garbage') faults.garbage++;
      else faults.errors++;
    }
    await ask(epp.child, 'gc'); // samples after a full GC: the slope is what stays, not the sawtooth
    const s = await ask<State>(epp.child, 'state');
    samples.push({ t: now / 1000, s });
    if (step % 6 === 0) console.log(`${(now / 60_000).toFixed(1).padStart(5)} min  RSS ${(s.rss / MiB).toFixed(1)} MiB  heap ${(s.heapUsed / MiB).toFixed(1)} MiB  in flight ${s.inFlight}  streams ${s.openStreams}  endpoints ${s.endpoints}`);
  }
  const result = await soak;
  for (let i = 0; i < names.length; i++) await ask(pages.child, `mode ${i} good`);
  await sleep(3000);
  const end = await ask<State>(epp.child, 'state');
  const metrics = (await ask<{ text: string }>(epp.child, 'metrics')).text;
  const warm = Math.min((durationMs / 1000) / 2, Math.max(60, (durationMs / 1000) * 0.2));
  const after = samples.filter((x) => x.t >= warm);
  const rssSlope = slope(after.map((x) => [x.t / 60, x.s.rss / MiB]));
  const heapSlope = slope(after.map((x) => [x.t / 60, x.s.heapUsed / MiB]));
  const errors = metrics.split('\n').filter((l) => /^(llm_d_epp_datalayer_(poll|extract)_errors_total|inference_objective_request_error_total)/.test(l));

  console.log(`\n${result.requests} calls in ${result.seconds.toFixed(0)} s (${result.reqPerSec.toFixed(0)} req/s): ${result.ok} ok, ${result.cancelled} cancelled by the client, ${result.failed} failed, immediate responses ${JSON.stringify(result.immediate)}, ${result.reconnects} reconnects`);
  console.log(`latency p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms; faults: ${faults.moved} pods moved, ${faults.hung} hung, ${faults.garbage} garbage pages, ${faults.errors} 500s (20 s each)`);
  console.log(`at the end: in flight ${end.inFlight}, open streams ${end.openStreams}, endpoints ${end.endpoints}, RSS ${(end.rss / MiB).toFixed(1)} MiB, heap ${(end.heapUsed / MiB).toFixed(1)} MiB`);
  console.log(`after warm-up (${warm.toFixed(0)} s): RSS slope ${rssSlope.toFixed(2)} MiB/min, heap slope ${heapSlope.toFixed(2)} MiB/min over ${after.length} samples (RSS ${(after[0]?.s.rss ?? 0) / MiB | 0} → ${(after.at(-1)?.s.rss ?? 0) / MiB | 0} MiB, range ${Math.min(...after.map((x) => x.s.rss)) / MiB | 0}–${Math.max(...after.map((x) => x.s.rss)) / MiB | 0}; heap ${Math.min(...after.map((x) => x.s.heapUsed)) / MiB | 0}–${Math.max(...after.map((x) => x.s.heapUsed)) / MiB | 0} MiB)`);
  console.log('error counters:\n' + errors.map((l) => '  ' + l).join('\n'));
  const problems = [
    result.failed > 0 ? `${result.failed} calls failed (${result.errors.join('; ')})` : '',
    Object.keys(result.immediate).length > 0 ? `immediate responses ${JSON.stringify(result.immediate)}` : '',
    end.inFlight !== 0 ? `${end.inFlight} requests still in flight` : '',
    end.openStreams !== 0 ? `${end.openStreams} streams still open` : '',
  ].filter(Boolean);
  if (problems.length > 0) {
    console.error(`\nFAILED: ${problems.join('; ')}`);
    exitCode = 1;
  } else console.log('\nOK: no failures but the cancelled calls, nothing left in flight');
} finally {
  await Promise.all([...children].map(stop));
}
process.exit(exitCode);
