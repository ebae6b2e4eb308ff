/**
 * Two EPP variants side by side: the same EPP (64 pods, default profile, http2 transport) started with
 * different node flags or EPP arguments, h2load replaying whole 4 KB exchanges, CPU per request from
 * /proc, runs alternating so drift in the machine hits both.
 * `node dist/bench/epp-ab.js '<json variant A>' '<json variant B>' [promptKB=4] [requests=20000] [rounds=3]`,
 * a variant being `{"name": "...", "node": ["--flag"], "args": "--epp-flag=x", "script": "/abs/dist-a/bench/epp-server.js"}`
 * (`script`: another build's EPP, for comparing two versions of the code).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFramesFile } from './ext-proc-frames.js';
import { cpuMs, DEFAULT_PODS, h2load, spawnNode, stop } from './server.bench.js';

interface Variant {
  name: string;
  node?: string[];
  args?: string;
  script?: string;
}

const variants = [process.argv[2], process.argv[3]].map((s) => JSON.parse(s ?? '{}') as Variant);
const promptKB = Number(process.argv[4] ?? 4);
const requests = Number(process.argv[5] ?? 20_000);
const rounds = Number(process.argv[6] ?? 3);
const children = new Set<ChildProcess>();
const dir = mkdtempSync(join(tmpdir(), 'epp-ab-'));
try {
  const frames = join(dir, 'frames.bin');
  writeFramesFile(frames, promptKB * 1024);
  const pages = await spawnNode<number[]>('./page-servers.js', [String(DEFAULT_PODS)], children);
  const totals = new Map<string, number[]>();
  console.log(`${promptKB} KB prompts, ${requests} exchanges per run\nvariant              req/s   CPU µs/request`);
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const env = { ...process.env, EPP_BENCH_ARGS: ['--grpc-transport=http2', v.args ?? ''].join(' ').trim() };
      const { child, info } = await spawnNode<{ grpcPort: number }>(v.script ?? './epp-server.js', [JSON.stringify(pages.info)], children, 30_000, env, v.node ?? []);
      await h2load(info.grpcPort, frames, 2_000, children);
      const before = cpuMs(child.pid!);
      const run = await h2load(info.grpcPort, frames, requests, children);
      const us = ((cpuMs(child.pid!) - before) * 1000) / run.succeeded;
      totals.set(v.name, [...(totals.get(v.name) ?? []), us]);
      console.log(`${v.name.padEnd(18)} ${run.reqPerSec.toFixed(0).padStart(7)} ${us.toFixed(1).padStart(12)}`);
      await stop(child);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const [a, b] = variants.map((v) => mean(totals.get(v.name)!));
  console.log(`${variants[1]!.name} / ${variants[0]!.name} CPU per request: ${(b! / a!).toFixed(3)}x`);
} finally {
  await Promise.all([...children].map(stop));
  rmSync(dir, { recursive: true, force: true });
}
