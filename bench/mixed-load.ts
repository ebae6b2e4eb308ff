/**
 * Do long prompts stall short ones? Small (4 KB) requests at a steady 200/s, while one client keeps
 * sending 1 MB prompts back to back, against the EPP with body parsing inline (`--workers=0`) and on a
 * worker (`--workers=1`). Per-request latencies come from h2load's log; the table gives the small
 * requests' percentiles, measured in one run. `node dist/bench/mixed-load.js` (needs h2load).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { writeFramesFile } from './ext-proc-frames.js';
import { assertH2load, grpcPost, runH2load, spawnNode, stop } from './server.bench.js';

const SECONDS = 8;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export interface MixedRow {
  workers: number;
  small: number;
  smallP50Ms: number;
  smallP99Ms: number;
  smallMaxMs: number;
  bigPerSec: number;
}

export async function runMixedLoad(): Promise<MixedRow[]> {
  assertH2load();
  const children = new Set<ChildProcess>();
  const dir = mkdtempSync(join(tmpdir(), 'mixed-load-'));
  const rows: MixedRow[] = [];
  try {
    const small = join(dir, 'small.bin');
    const big = join(dir, 'big.bin');
    writeFramesFile(small, 4 * 1024);
    writeFramesFile(big, 1024 * 1024);
    const pages = await spawnNode<number[]>('./page-servers.js', ['8'], children);
    for (const workers of [0, 1]) {
      const { child, info } = await spawnNode<{ grpcPort: number }>('./epp-server.js', [JSON.stringify(pages.info)], children, 15_000, { ...process.env, EPP_BENCH_ARGS: `--workers=${workers}` });
      try {
        const log = join(dir, `small-${workers}.log`);
        await runH2load(['-n', '200', '-c', '1', '-m', '1', ...grpcPost(info.grpcPort, small)], children); // warm-up
        const [smallRun, bigRun] = await Promise.all([
          runH2load(['-D', `${SECONDS}s`, '-c', '2', '-m', '1', '--rps', '100', '--log-file', log, ...grpcPost(info.grpcPort, small)], children),
          runH2load(['-D', `${SECONDS}s`, '-c', '1', '-m', '1', ...grpcPost(info.grpcPort, big)], children),
        ]);
        const latencies = readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((line) => Number(line.split('\t')[2]) / 1000)
          .filter(Number.isFinite)
          .sort((a, b) => a - b);
        rows.push({
          workers,
          small: smallRun.succeeded,
          smallP50Ms: percentile(latencies, 50),
          smallP99Ms: percentile(latencies, 99),
          smallMaxMs: latencies.at(-1) ?? NaN,
          bigPerSec: bigRun.succeeded / SECONDS,
        });
      } finally {
        await stop(child);
      }
    }
  } finally {
    await Promise.all([...children].map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`small 4 KB requests at 200/s while 1 MB prompts arrive back to back, ${SECONDS} s each`);
  console.log('workers   small ok   p50 ms   p99 ms   max ms   1 MB/s');
  for (const r of await runMixedLoad()) {
    console.log(`${String(r.workers).padStart(7)} ${String(r.small).padStart(10)} ${r.smallP50Ms.toFixed(2).padStart(8)} ${r.smallP99Ms.toFixed(2).padStart(8)} ${r.smallMaxMs.toFixed(1).padStart(8)} ${r.bigPerSec.toFixed(1).padStart(8)}`);
  }
}
