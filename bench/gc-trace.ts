/**
 * What young-generation collections cost the EPP under load: the real EPP (64 pods, default profile) run
 * with `--trace-gc-nvp` while h2load replays whole exchanges; per scavenge during the timed run, the
 * mean pause, bytes promoted to the old generation and bytes that survived in all. Stale references from
 * the old generation (a Map's old hash tables, pretenured objects) show as promoted bytes.
 * `node dist/bench/gc-trace.js [promptKB=4] [requests=20000]`; EPP_V8_PRETENURING=on keeps V8's default
 * pretenuring, EPP_NODE_FLAGS adds node flags.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeFramesFile } from './ext-proc-frames.js';
import { DEFAULT_PODS, h2load, spawnNode, stop } from './server.bench.js';

const promptKB = Number(process.argv[2] ?? 4);
const requests = Number(process.argv[3] ?? 20_000);
const children = new Set<ChildProcess>();
const dir = mkdtempSync(join(tmpdir(), 'gc-trace-'));

/** The `key=value` fields of one `--trace-gc-nvp` line. */
function fields(line: string): Map<string, string> {
  return new Map(line.split(/\s+/).filter((f) => f.includes('=')).map((f) => f.split('=', 2) as [string, string]));
}

try {
  const pages = await spawnNode<number[]>('./page-servers.js', [String(DEFAULT_PODS)], children);
  const flags = (process.env.EPP_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const script = fileURLToPath(new URL('./epp-server.js', import.meta.url));
  const child = spawn(process.execPath, [...flags, '--trace-gc-nvp', script, JSON.stringify(pages.info)], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  // The trace shares stdout with the child's one JSON line (its port).
  const lines: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`epp-server exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (l) => (l.startsWith('{') ? resolve((JSON.parse(l) as { grpcPort: number }).grpcPort) : lines.push(l)));
  });
  const frames = join(dir, 'frames.bin');
  writeFramesFile(frames, promptKB * 1024);
  await h2load(port, frames, 2_000, children); // warm-up
  const from = lines.length;
  const run = await h2load(port, frames, requests, children);
  const scavenges = lines.slice(from).map(fields).filter((f) => f.get('gc') === 's');
  const full = lines.slice(from).map(fields).filter((f) => f.get('gc') === 'ms').length;
  const mean = (key: string) => scavenges.reduce((a, f) => a + Number(f.get(key) ?? 0), 0) / scavenges.length;
  console.log(`${promptKB} KB, ${run.succeeded} requests at ${run.reqPerSec.toFixed(0)} req/s (pretenuring ${process.env.EPP_V8_PRETENURING === 'on' ? 'on' : 'off'}${flags.length ? `, ${flags.join(' ')}` : ''})`);
  console.log(`${scavenges.length} scavenges (${((scavenges.length * 1000) / requests).toFixed(1)} per 1,000 requests), ${full} mark-compacts`);
  console.log(`per scavenge: pause ${mean('pause').toFixed(2)} ms, promoted ${(mean('promoted') / 1024).toFixed(0)} KB, survived ${(mean('new_space_survived') / 1024).toFixed(0)} KB`);
} finally {
  await Promise.all([...children].map(stop));
  rmSync(dir, { recursive: true, force: true });
}
