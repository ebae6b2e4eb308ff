/**
 * What the EPP allocates per request under load: the real EPP (64 pods, default profile) samples its
 * allocations (one in every ~1 KB, objects already collected included) while h2load drives it; the bytes
 * are summed by allocating function and divided by the requests. Scraping allocates too and is counted.
 * `node dist/bench/heap-profile.js [promptKB=4] [requests=20000] [all|promoted]`: `promoted` counts only what
 * outlived a young-generation collection (what makes scavenges slow and fills the old generation).
 * EPP_NODE_FLAGS passes node/V8 flags to the EPP.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFramesFile } from './ext-proc-frames.js';
import { DEFAULT_PODS, h2load, spawnNode, stop } from './server.bench.js';
import { ask } from './child-control.js';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** Built-ins (`Map`, `push`, no file) are named with their caller, which is the one to change. */
function walk(node: HeapNode, out: Map<string, number>, parent = ''): void {
  const { functionName, url, lineNumber } = node.callFrame;
  const here = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}`;
  const key = url === '' && parent ? `${functionName} ← ${parent}` : here;
  if (node.selfSize > 0) out.set(key, (out.get(key) ?? 0) + node.selfSize);
  for (const c of node.children) walk(c, out, url === '' ? parent : here);
}

const promptKB = Number(process.argv[2] ?? 4);
const requests = Number(process.argv[3] ?? 20_000);
const mode = process.argv[4] === 'promoted' ? 'promoted' : 'all';
const children = new Set<ChildProcess>();
const dir = mkdtempSync(join(tmpdir(), 'heap-profile-'));
try {
  const pages = await spawnNode<number[]>('./page-servers.js', [String(DEFAULT_PODS)], children);
  const nodeFlags = (process.env.EPP_NODE_FLAGS ?? '').split(' ').filter(Boolean); // e.g. a V8 GC flag to compare
  const { child, info } = await spawnNode<{ grpcPort: number }>('./epp-server.js', [JSON.stringify(pages.info)], children, 15_000, process.env, nodeFlags);
  const frames = join(dir, 'frames.bin');
  writeFramesFile(frames, promptKB * 1024);
  await h2load(info.grpcPort, frames, 2_000, children); // warm-up: JIT, pools, caches
  await ask(child, `heapStart ${mode}`);
  const run = await h2load(info.grpcPort, frames, requests, children);
  const file = join(dir, 'run.heapprofile');
  await ask(child, `heapStop ${file}`, 120_000);
  console.log(`h2load: ${run.succeeded}/${run.total} succeeded, ${run.reqPerSec.toFixed(0)} req/s (sampling slows it)`);
  const byFunction = new Map<string, number>();
  walk((JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode }).head, byFunction);
  const total = [...byFunction.values()].reduce((a, b) => a + b, 0);
  const perRequest = (bytes: number) => `${(bytes / run.succeeded / 1024).toFixed(2).padStart(6)} KB`;
  console.log(`\n${mode === 'promoted' ? 'outlived a scavenge' : 'allocated'} per request, sampled: ${perRequest(total)} (scraping and timers included)`);
  for (const [f, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${perRequest(bytes)}  ${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${f}`);
} finally {
  await Promise.all([...children].map(stop));
  rmSync(dir, { recursive: true, force: true });
}
