/**
 * The EPP's own cost per request, without the transport: the real EPP (startEpp, default profile, 64
 * pods scraped from page servers in another process) whose ProcessStream is fed the decoded messages of
 * one whole ext_proc exchange (headers, 4 KB chat body, response headers, JSON response body) in a tight
 * loop, each request with a prompt of its own after a shared first 1 KB. What is left over the echo server
 * (which does none of this) is this figure plus the data layer's idle cost. `node dist/bench/stream-path.js
 * [promptKB=4] [seconds=5]`; run with --cpu-prof to see where it goes (bench/cpu-profile.ts summarize).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEpp } from '../src/epp.js';
import { parseArgs } from '../src/cli.js';
import { createLogger } from '../src/observability/logger.js';
import { DEFAULT_CONFIG_TEXT } from '../src/config/defaults.js';
import { ProcessStream, DEFAULT_STREAM_OPTIONS } from '../src/extproc/process-stream.js';
import { decodeRequest, encodeRequest, type ProcessingRequest, type ProcessingResponse } from '../src/extproc/codec.js';
import { exchangeMessages, PROMPT_MARKER } from './ext-proc-frames.js';
import { DEFAULT_PODS, SHARED_PROMPT_BYTES, spawnNode, stop } from './server.bench.js';

const promptKB = Number(process.argv[2] ?? 4);
const seconds = Number(process.argv[3] ?? 5);
const children = new Set<ChildProcess>();
const dir = mkdtempSync(join(tmpdir(), 'stream-path-'));
try {
  const pages = await spawnNode<number[]>('./page-servers.js', [String(DEFAULT_PODS)], children);
  const endpointsFile = join(dir, 'endpoints.yaml');
  writeFileSync(endpointsFile, `endpoints: [${pages.info.map((port, i) => `{name: pod-${i}, address: 127.0.0.1, port: ${port}}`).join(', ')}]\n`);
  const config = `${DEFAULT_CONFIG_TEXT.replace(/^plugins:\n/m, `plugins:\n- type: file-discovery\n  parameters: {path: ${JSON.stringify(endpointsFile)}}\n`)}dataLayer:\n  discovery: {pluginRef: file-discovery}\n`;
  const args = ['--config-text', config, '--secure-serving=false', '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0', '--workers=0'];
  const epp = await startEpp(parseArgs(args), createLogger(0, { write: () => true } as unknown as NodeJS.WritableStream), { host: '127.0.0.1' });
  while (!epp.dataLayer.store.snapshot().endpoints.every((e) => e.metrics.updateTime > 0) || epp.dataLayer.store.snapshot().endpoints.length < DEFAULT_PODS) await new Promise((r) => setTimeout(r, 10));

  // The exchange as the server would hand it over: decoded from wire bytes, the prompt's marker patched per request.
  const wire = exchangeMessages(promptKB * 1024, SHARED_PROMPT_BYTES).map((m) => encodeRequest(m));
  const markerIn = wire.map((w) => w.indexOf(PROMPT_MARKER, 0, 'latin1'));
  let id = 0;
  let sent = 0;
  const io = { send: (_m: ProcessingResponse) => void sent++, end: () => undefined };
  const one = () => {
    const stream = new ProcessStream(epp.director, io, DEFAULT_STREAM_OPTIONS);
    const tag = String(id++).padStart(PROMPT_MARKER.length, '0');
    for (let i = 0; i < wire.length; i++) {
      let frame = wire[i]!;
      if (markerIn[i]! >= 0) {
        frame = Buffer.from(frame);
        frame.write(tag, markerIn[i]!, 'latin1');
      }
      stream.onMessage(decodeRequest(frame) as ProcessingRequest);
    }
    if (!stream.finished) throw new Error('the exchange did not finish');
  };
  for (let i = 0; i < 3000; i++) one(); // warm-up: JIT, prefix index
  // In slices, yielding to the event loop so scraping goes on as in production; only our own slices are timed.
  let busyMs = 0;
  let requests = 0;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  while (performance.now() - wall0 < seconds * 1000) {
    const t = performance.now();
    for (let i = 0; i < 200; i++) one();
    busyMs += performance.now() - t;
    requests += 200;
    await new Promise((r) => setImmediate(r));
  }
  const cpu = process.cpuUsage(cpu0);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    // With --expose-gc: the heap after a full GC, then after as many requests again (a leak shows as growth).
    const heap = () => (gc(), gc(), process.memoryUsage().heapUsed / 1024 / 1024);
    const before = heap();
    for (let i = 0; i < requests; i++) one();
    console.log(`heap after GC: ${before.toFixed(1)} MiB, ${heap().toFixed(1)} MiB after ${requests} more exchanges`);
  }
  const wall = performance.now() - wall0;
  console.log(
    `${requests} exchanges of ${promptKB} KB through ProcessStream + Director, ${DEFAULT_PODS} pods: ${((busyMs * 1000) / requests).toFixed(1)} µs each on the main thread; ` +
      `process CPU ${(((cpu.user + cpu.system) / 1000 / requests) * 1000).toFixed(1)} µs per exchange (scraping included, ${((wall - busyMs) / 1000).toFixed(2)} s of ${(wall / 1000).toFixed(2)} s outside the slices)`,
  );
  await epp.close();
} finally {
  await Promise.all([...children].map(stop));
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
