/**
 * What the gRPC library costs: the echo ext_proc server (bench/echo-server.ts) and the EPP (64 pods, default
 * profile), each on grpc-js and on the bare node:http2 path (`--grpc-transport`), h2load replaying whole
 * exchanges, CPU per request from /proc, alternating runs.
 * `node dist/bench/transport.bench.js [promptKB=4] [requests=20000] [rounds=2]`.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFramesFile } from './ext-proc-frames.js';
import { cpuMs, DEFAULT_PODS, h2load, spawnNode, stop } from './server.bench.js';

const promptKB = Number(process.argv[2] ?? 4);
const requests = Number(process.argv[3] ?? 20_000);
const rounds = Number(process.argv[4] ?? 2);
const children = new Set<ChildProcess>();
const dir = mkdtempSync(join(tmpdir(), 'transport-'));
try {
  const frames = join(dir, 'frames.bin');
  writeFramesFile(frames, promptKB * 1024);
  console.log(`${promptKB} KB prompts, ${requests} exchanges per run`);
  console.log('transport          req/s   CPU µs/request');
  const totals = new Map<string, number[]>();
  const pages = await spawnNode<number[]>('./page-servers.js', [String(DEFAULT_PODS)], children);
  const start = (server: string, transport: string) =>
    server === 'echo'
      ? spawnNode<{ grpcPort: number }>('./echo-server.js', transport === 'http2' ? ['http2'] : [], children)
      : spawnNode<{ grpcPort: number }>('./epp-server.js', [JSON.stringify(pages.info)], children, 30_000, { ...process.env, EPP_BENCH_ARGS: `--grpc-transport=${transport}` });
  for (let r = 0; r < rounds; r++) {
    for (const kind of ['echo grpc-js', 'echo http2', 'epp grpc-js', 'epp http2'] as const) {
      const [server, transport] = kind.split(' ') as [string, string];
      const { child, info } = await start(server, transport);
      await h2load(info.grpcPort, frames, 2_000, children); // warm-up
      const before = cpuMs(child.pid!);
      const run = await h2load(info.grpcPort, frames, requests, children);
      const us = ((cpuMs(child.pid!) - before) * 1000) / run.succeeded;
      if (run.succeeded !== requests) throw new Error(`${kind}: ${run.succeeded}/${requests} succeeded`);
      totals.set(kind, [...(totals.get(kind) ?? []), us]);
      console.log(`${kind.padEnd(15)} ${run.reqPerSec.toFixed(0).padStart(8)} ${us.toFixed(1).padStart(12)}`);
      await stop(child);
      children.delete(child);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const server of ['echo', 'epp']) console.log(`${server}: http2 / grpc-js CPU per request ${(mean(totals.get(`${server} http2`)!) / mean(totals.get(`${server} grpc-js`)!)).toFixed(2)}x`);
  console.log(`EPP on http2 / echo on grpc-js: ${(mean(totals.get('epp http2')!) / mean(totals.get('echo grpc-js')!)).toFixed(2)}x`);
} finally {
  await Promise.all([...children].map(stop));
  rmSync(dir, { recursive: true, force: true });
}
