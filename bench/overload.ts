/**
 * Flow control under overload, in the project's simulator: a pool of simulated vLLM pods, the EPP and the
 * demo gateway in one process, and an open-loop stream of streamed completions above what the pool can
 * serve, a fifth of them `critical` (priority 10) and the rest `standard` (priority 0). The same seeded
 * arrivals run twice: flow control off (every request goes to a pod and waits in its FIFO queue behind
 * whatever came first) and on (requests wait in the EPP; saturation from the EPP's own in-flight count, so
 * critical ones are dispatched first as slots free up). The table gives TTFT per priority and the outcomes.
 *
 * `node dist/bench/overload.js [--rate 30] [--seconds 15] [--pods 2]`. Aim (issue #13): critical TTFT p99
 * far lower with flow control on.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs as parseNodeArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from '../src/cli.js';
import { startEpp } from '../src/epp.js';
import { startGateway } from '../src/gateway/gateway.js';
import { createLogger } from '../src/observability/logger.js';
import { seededRandom } from '../src/scheduling/random.js';
import { startSimPool, type SimPool } from '../src/sim/server.js';

const MODEL = 'm';
/** The pods' batch size: the concurrency detector's limit matches it, so with flow control nothing queues in a pod. */
const MAX_RUNNING = 4;

const OBJECTIVES = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: critical}
spec: {priority: 10}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: standard}
spec: {priority: 0}
`;

function config(flowControl: boolean): string {
  const profile = `plugins:
- type: queue-scorer
- type: max-score-picker
- name: detector
  type: concurrency-detector
  parameters: {maxConcurrency: ${MAX_RUNNING}}
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
  - pluginRef: max-score-picker
`;
  if (!flowControl) return profile;
  return `featureGates: [flowControl]
${profile}flowControl:
  defaultRequestTTL: 30s
  saturationDetector: {pluginRef: detector}
`;
}

interface Arrival {
  at: number;
  critical: boolean;
  promptTokens: number;
  maxTokens: number;
}

/** Poisson arrivals; prompts of 500–4,000 tokens (≈4 bytes a token in the simulator), 32–128 output tokens. */
export function arrivals(seed: number, rate: number, seconds: number): Arrival[] {
  const rnd = seededRandom(seed).next;
  const out: Arrival[] = [];
  for (let t = 0; ; ) {
    t += (-Math.log(1 - rnd()) / rate) * 1000;
    if (t >= seconds * 1000) return out;
    out.push({ at: t, critical: rnd() < 0.2, promptTokens: 500 + Math.floor(rnd() * 3500), maxTokens: 32 + Math.floor(rnd() * 96) });
  }
}

interface Result {
  critical: boolean;
  status: number;
  ttftMs: number;
}

async function send(gatewayPort: number, a: Arrival, i: number): Promise<Result> {
  const started = performance.now();
  // Distinct prompts, so prefix affinity plays no part.
  const prompt = `request ${i} `.padEnd(a.promptTokens * 4, 'lorem ipsum dolor sit amet ');
  const res = await fetch(`http://127.0.0.1:${gatewayPort}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-gateway-inference-objective': a.critical ? 'critical' : 'standard' },
    body: JSON.stringify({ model: MODEL, prompt, max_tokens: a.maxTokens, stream: true }),
  });
  const reader = res.body!.getReader();
  const first = await reader.read();
  const ttftMs = performance.now() - started;
  if (!first.done) for (let r = await reader.read(); !r.done; r = await reader.read());
  return { critical: a.critical, status: res.status, ttftMs };
}

const pct = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export interface OverloadRow {
  flowControl: boolean;
  priority: 'critical' | 'standard';
  sent: number;
  ok: number;
  rejected: number;
  ttftP50Ms: number;
  ttftP90Ms: number;
  ttftP99Ms: number;
}

async function runOnce(pool: SimPool, flowControl: boolean, load: readonly Arrival[]): Promise<OverloadRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'epp-overload-'));
  const endpoints = join(dir, 'endpoints.yaml');
  const resources = join(dir, 'objectives.yaml');
  writeFileSync(endpoints, `endpoints: [${pool.servers.map((s) => `{name: ${s.name}, address: ${s.address}, port: ${s.port}}`).join(', ')}]\n`);
  writeFileSync(resources, OBJECTIVES);
  const text = config(flowControl).replace(/^plugins:\n/m, `plugins:\n- type: file-discovery\n  parameters: {path: ${JSON.stringify(endpoints)}}\n`) + 'dataLayer:\n  discovery: {pluginRef: file-discovery}\n';
  const args = ['--config-text', text, '--resources-file', resources, '--secure-serving=false', '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0', '--refresh-metrics-interval=50ms'];
  const epp = await startEpp(parseArgs(args), createLogger(0, { write: () => true } as unknown as NodeJS.WritableStream), { host: '127.0.0.1' });
  const gateway = await startGateway({ port: 0, host: '127.0.0.1', eppTarget: `127.0.0.1:${epp.grpcPort}`, credentials: grpc.credentials.createInsecure() });
  try {
    while (epp.dataLayer.store.snapshot().endpoints.some((e) => e.metrics.updateTime === 0)) await new Promise((r) => setTimeout(r, 10));
    const t0 = performance.now();
    const pending: Promise<Result>[] = [];
    for (const [i, a] of load.entries()) {
      const wait = t0 + a.at - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(send(gateway.port, a, i));
    }
    const results = await Promise.all(pending);
    return (['critical', 'standard'] as const).map((priority) => {
      const mine = results.filter((r) => r.critical === (priority === 'critical'));
      const ok = mine.filter((r) => r.status === 200);
      const ttft = ok.map((r) => r.ttftMs).sort((x, y) => x - y);
      return { flowControl, priority, sent: mine.length, ok: ok.length, rejected: mine.length - ok.length, ttftP50Ms: pct(ttft, 50), ttftP90Ms: pct(ttft, 90), ttftP99Ms: pct(ttft, 99) };
    });
  } finally {
    await gateway.close();
    await epp.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runOverloadBench(o: { rate: number; seconds: number; pods: number; seed: number }): Promise<OverloadRow[]> {
  const load = arrivals(o.seed, o.rate, o.seconds);
  const rows: OverloadRow[] = [];
  for (const flowControl of [false, true]) {
    // A fresh pool per run: nothing queued or cached carries over.
    const pool = await startSimPool(o.pods, { model: MODEL, maxRunning: MAX_RUNNING, prefillTokensPerSecond: 20_000, decodeMsPerToken: 5 });
    try {
      rows.push(...(await runOnce(pool, flowControl, load)));
    } finally {
      await pool.close();
    }
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseNodeArgs({ options: { rate: { type: 'string', default: '30' }, seconds: { type: 'string', default: '15' }, pods: { type: 'string', default: '2' }, seed: { type: 'string', default: '1' } } });
  const o = { rate: Number(values.rate), seconds: Number(values.seconds), pods: Number(values.pods), seed: Number(values.seed) };
  console.log(`Overload: ${o.pods} simulated pods (batch ${MAX_RUNNING}), ${o.rate} req/s for ${o.seconds} s, 20% critical; TTFT of answered requests, ms`);
  console.log('  flow control  priority   sent    ok  rejected    p50      p90      p99');
  for (const r of await runOverloadBench(o)) {
    console.log(
      `  ${(r.flowControl ? 'on' : 'off').padEnd(13)} ${r.priority.padEnd(9)} ${String(r.sent).padStart(5)} ${String(r.ok).padStart(5)} ${String(r.rejected).padStart(9)} ${r.ttftP50Ms.toFixed(0).padStart(7)} ${r.ttftP90Ms.toFixed(0).padStart(8)} ${r.ttftP99Ms.toFixed(0).padStart(8)}`,
    );
  }
}
