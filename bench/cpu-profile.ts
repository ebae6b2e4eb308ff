/**
 * Where the EPP's time goes under load: the real EPP (64 pods, default profile) run with `--cpu-prof`
 * while h2load (or the varied-prompt client) drives it, then the profile's self time summed by file and
 * by function. `node dist/bench/cpu-profile.js [promptKB=4] [requests=20000] [h2load|varied]`.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFramesFile } from './ext-proc-frames.js';
import { DEFAULT_PODS, h2load, SHARED_PROMPT_BYTES, spawnNode, stop } from './server.bench.js';
import type { ReplayOptions, ReplayResult } from './replay-client.js';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) by file and by function, from a .cpuprofile. */
export function summarize(profile: Profile): { total: number; byFile: [string, number][]; byFunction: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const files = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const url = n.callFrame.url;
    const file = url === '' ? `(${n.callFrame.functionName || 'native'})` : url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
    files.set(file, (files.get(file) ?? 0) + ms);
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${file}:${n.callFrame.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + ms);
    total += ms;
  }
  const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, byFile: top(files), byFunction: top(fns) };
}

/** The part of the EPP a file belongs to, for the summary a reader wants first. */
export function areaOf(file: string): string {
  if (file === '((idle))') return 'idle';
  if (file === '((garbage collector))') return 'garbage collection';
  if (/datalayer\/|page-client|http1-response|prom-text|extract|collector/.test(file)) return 'scraping (data layer)';
  if (/extproc\/|grpc-js|protobufjs|http2|node:net|stream|node:events|node:buffer|internal\/buffer|writeBuffer|task_queues|timers/.test(file)) return 'gRPC, HTTP/2, protobuf (what the echo server pays too)';
  if (/request\/|parser/.test(file)) return 'request parsing';
  if (/scheduling\/|plugins\/|director\/|framework\//.test(file)) return 'scheduling and request control';
  if (/observability\/|prom-client/.test(file)) return 'metrics';
  if (/modules|loader|compile/.test(file)) return 'start-up (module loading)';
  return 'other: ' + file;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const promptKB = Number(process.argv[2] ?? 4);
  const requests = Number(process.argv[3] ?? 20_000);
  const client = process.argv[4] ?? 'h2load';
  const children = new Set<ChildProcess>();
  const dir = mkdtempSync(join(tmpdir(), 'cpu-profile-'));
  try {
    const pages = await spawnNode<number[]>('./page-servers.js', [String(DEFAULT_PODS)], children);
    const { child, info } = await spawnNode<{ grpcPort: number }>('./epp-server.js', [JSON.stringify(pages.info)], children, 30_000, process.env, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const frames = join(dir, 'frames.bin');
    writeFramesFile(frames, promptKB * 1024);
    if (client === 'h2load') {
      const run = await h2load(info.grpcPort, frames, requests, children);
      console.log(`h2load: ${run.succeeded}/${run.total} succeeded, ${run.reqPerSec.toFixed(0)} req/s`);
    } else {
      const options: ReplayOptions = { port: info.grpcPort, promptBytes: promptKB * 1024, sharedBytes: SHARED_PROMPT_BYTES, requests, connections: 4, streams: 4 };
      const { info: r } = await spawnNode<ReplayResult>('./replay-client.js', [JSON.stringify(options)], children, 120_000);
      console.log(`varied: ${r.ok}/${r.requests} ok, ${r.reqPerSec.toFixed(0)} req/s`);
    }
    // Closing stdin makes the child exit by itself, which is when --cpu-prof writes the profile.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => (child.kill('SIGKILL'), resolve()), 20_000);
      child.once('exit', () => (clearTimeout(timer), resolve()));
      child.stdin!.end();
    });
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the EPP wrote no profile');
    const { total, byFile, byFunction } = summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile);
    const pct = (ms: number) => `${((100 * ms) / total).toFixed(1).padStart(5)}%`;
    const areas = new Map<string, number>();
    for (const [f, ms] of byFile) {
      const a = areaOf(f).startsWith('other') ? 'other' : areaOf(f);
      areas.set(a, (areas.get(a) ?? 0) + ms);
    }
    console.log(`\nself time by area (${(total / 1000).toFixed(1)} s sampled)`);
    for (const [a, ms] of [...areas].sort((x, y) => y[1] - x[1])) console.log(`${pct(ms)}  ${a}`);
    const others = byFile.filter(([f]) => areaOf(f).startsWith('other')).slice(0, 8);
    console.log(`  "other" is mostly: ${others.map(([f, ms]) => `${f} ${pct(ms).trim()}`).join(', ')}`);
    console.log(`\nself time by file (${(total / 1000).toFixed(1)} s sampled, idle included as "(idle)")`);
    for (const [f, ms] of byFile.slice(0, 30)) console.log(`${pct(ms)}  ${f}`);
    console.log('\nself time by function');
    for (const [f, ms] of byFunction.slice(0, 40)) console.log(`${pct(ms)}  ${f}`);
  } finally {
    await Promise.all([...children].map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
}
