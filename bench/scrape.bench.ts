/**
 * Scraping cost: 100 endpoints every 50 ms (2,000 pages a second) through the real collector, for a few
 * seconds; the collector process's CPU time over wall time is the core share. The page servers serve a
 * vLLM-sized page (~48 KB) and honour prometheus_client's `?name[]=` filter as vLLM does, so the row with
 * `nameFilter` (the default) measures a few-hundred-byte page and the row without it the whole page.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EndpointStore } from '../src/datalayer/endpoint-store.js';
import { MetricsCollector } from '../src/datalayer/collector.js';
import { DEFAULT_METRICS_MAPPING } from '../src/plugins/core-metrics-extractor/engines.js';
import { LoadTracker } from '../src/director/load-tracker.js';
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

export interface ScrapeRow {
  endpoints: number;
  pages: 'same' | 'changing';
  /** Whether the collector asked for the mapped series only (`?name[]=`), which the page servers honour as vLLM does. */
  nameFilter: boolean;
  seconds: number;
  pagesPerSec: number;
  cores: number;
  /** The user and kernel shares of `cores` (loopback TCP and epoll are kernel time). */
  userCores: number;
  systemCores: number;
}

/** `pages: 'changing'` serves other figures on every page (a busy pod); `'same'` the same page every time (an idle one). */
export async function runScrapeBench(endpoints = 100, seconds = 5, nameFilter = true, pages: 'same' | 'changing' = 'same'): Promise<ScrapeRow> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./page-servers.js', import.meta.url)), String(endpoints), pages], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
  const ports = JSON.parse(line) as number[];
  const store = new EndpointStore(new LoadTracker());
  ports.forEach((port, i) => store.upsert({ name: `pod-${i}`, namespace: 'bench', address: '127.0.0.1', port, labels: {} }));
  const collector = new MetricsCollector(store, { mapping: DEFAULT_METRICS_MAPPING, intervalMs: 50, nameFilter });
  collector.sync(store.snapshot().endpoints);
  // Connections up and the JIT warm: at 20 scrapes a second per pod, tier-up takes seconds, and a shorter
  // warm-up measures the interpreter (0.40 core in the first 5 s against 0.30 from 5 s on, at 100 pods).
  await new Promise((r) => setTimeout(r, 5000));
  const scrapesBefore = ports.reduce((n, _p, i) => n + collector.scrapes(`bench/pod-${i}`), 0);
  // SCRAPE_PROFILE=<file>: a CPU profile of the measured window only (warm-up left out), for bench/cpu-profile.ts's summary.
  const profileFile = process.env['SCRAPE_PROFILE'];
  const session = profileFile ? new Session() : undefined;
  const post = (method: string) => new Promise<unknown>((resolve, reject) => session!.post(method, (err, r) => (err ? reject(err) : resolve(r))));
  if (session) {
    session.connect();
    await post('Profiler.enable');
    await post('Profiler.start');
  }
  const cpu = process.cpuUsage();
  const start = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = process.cpuUsage(cpu);
  if (session) {
    writeFileSync(profileFile!, JSON.stringify(((await post('Profiler.stop')) as { profile: unknown }).profile));
    session.disconnect();
  }
  const wall = (performance.now() - start) / 1000;
  const scrapes = ports.reduce((n, _p, i) => n + collector.scrapes(`bench/pod-${i}`), 0) - scrapesBefore;
  await collector.close();
  child.stdin!.end();
  return { endpoints, pages, nameFilter, seconds: wall, pagesPerSec: scrapes / wall, cores: (used.user + used.system) / 1e6 / wall, userCores: used.user / 1e6 / wall, systemCores: used.system / 1e6 / wall };
}

/**
 * The whole EPP (bench/epp-server.ts: default config, file discovery, every plugin, metrics and status
 * servers) over `pods` page servers with no request traffic: the EPP process's CPU (user + system, all its
 * threads, from /proc) per nominal page (pods × 20 a second, at the default 50 ms refresh).
 */
export async function runIdleEppBench(pods = 64, seconds = 10, pages: 'same' | 'changing' = 'same'): Promise<{ pods: number; pagesPerSec: number; cores: number }> {
  const { spawnNode, stop, cpuMs } = await import('./server.bench.js');
  const children = new Set<ChildProcess>();
  try {
    const servers = await spawnNode<number[]>('./page-servers.js', [String(pods), pages], children);
    const { child } = await spawnNode<{ grpcPort: number }>('./epp-server.js', [JSON.stringify(servers.info)], children, 30_000);
    await new Promise((r) => setTimeout(r, 5000)); // JIT warm, as above
    const cpu0 = cpuMs(child.pid!);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cores = (cpuMs(child.pid!) - cpu0) / (performance.now() - t0);
    return { pods, pagesPerSec: pods * 20, cores };
  } finally {
    await Promise.all([...children].map(stop));
  }
}

/**
 * `node dist/bench/scrape.bench.js [endpoints=100] [seconds=5] [filtered|whole|epp] [same|changing]`: one
 * row, the collector's CPU (`epp`: the whole idle EPP's, filtered pages).
 */
if (import.meta.url === `file://${process.argv[1]}`) {
  const [endpoints, seconds, mode, pages] = [Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 5), process.argv[4] ?? 'filtered', process.argv[5] === 'changing' ? 'changing' : 'same'] as const;
  if (mode === 'epp') {
    const r = await runIdleEppBench(endpoints, seconds, pages);
    console.log(`idle EPP, ${r.pods} pods, ${pages} page: ${r.pagesPerSec} pages/s (nominal), ${r.cores.toFixed(3)} core, ${((r.cores * 1e6) / r.pagesPerSec).toFixed(1)} µs/page`);
  } else {
    const r = await runScrapeBench(endpoints, seconds, mode !== 'whole', pages);
    const usPerPage = (r.cores * 1e6) / r.pagesPerSec;
    console.log(`${r.endpoints} endpoints, ${r.nameFilter ? 'filtered' : 'whole'} ${r.pages} page: ${r.pagesPerSec.toFixed(0)} pages/s, ${r.cores.toFixed(3)} core (user ${r.userCores.toFixed(3)}, system ${r.systemCores.toFixed(3)}), ${usPerPage.toFixed(1)} µs/page`);
  }
}
