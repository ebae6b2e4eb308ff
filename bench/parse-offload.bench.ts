/**
 * Where offloading body parsing pays: main-thread time per request (event-loop utilisation, so worker
 * time is not counted) parsing inline against handing the body to the worker pool, by body size. The
 * offload threshold (`--parse-offload-bytes`) comes from this table.
 */
import { OpenAiParser } from '../src/plugins/openai-parser/index.js';
import { ParseOffload } from '../src/pool/parse-offload.js';
import { WorkerPool } from '../src/pool/worker-pool.js';
import { chatBody } from './ext-proc-frames.js';

export interface OffloadRow {
  bodyKB: number;
  inlineMainUs: number;
  offloadMainUs: number;
  offloadLatencyUs: number;
}

const PATH = '/v1/chat/completions';

async function mainThreadUs(n: number, concurrency: number, one: () => unknown): Promise<{ mainUs: number; latencyUs: number }> {
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) await one();
    }),
  );
  const elu = performance.eventLoopUtilization(elu0);
  return { mainUs: (elu.active * 1000) / n, latencyUs: ((performance.now() - t0) * 1000 * concurrency) / n };
}

export async function runParseOffloadBench(sizesKB = [16, 64, 256, 1024]): Promise<OffloadRow[]> {
  const parser = new OpenAiParser('openai-parser');
  const pool = new WorkerPool();
  pool.start(1);
  const offload = new ParseOffload({ pool, minBytes: 0 });
  const rows: OffloadRow[] = [];
  try {
    for (const kb of sizesKB) {
      const body = chatBody(kb * 1024);
      const input = { path: PATH, headers: {}, body };
      const n = Math.max(50, Math.round(20_000 / kb));
      await mainThreadUs(Math.ceil(n / 5), 2, () => offload.parse(input)); // warm both paths
      await mainThreadUs(Math.ceil(n / 5), 1, () => parser.parse(input));
      const inline = await mainThreadUs(n, 1, () => parser.parse(input));
      const off = await mainThreadUs(n, 2, () => offload.parse(input));
      rows.push({ bodyKB: kb, inlineMainUs: inline.mainUs, offloadMainUs: off.mainUs, offloadLatencyUs: off.latencyUs });
    }
  } finally {
    await pool.close();
  }
  return rows;
}
