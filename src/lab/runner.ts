/**
 * Runs one workload against one arm: a fresh simulated pool, then either the real EPP with a config (plus
 * the demo gateway playing Envoy's part) or the round-robin baseline (requests sent straight to the pods in
 * turn, no EPP). Every request is a streamed chat completion; its time to first token, total latency,
 * status, pod and cached prompt tokens (from the final usage chunk) are recorded.
 */
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from '../cli.js';
import { startEpp } from '../epp.js';
import { startGateway } from '../gateway/gateway.js';
import { createLogger } from '../observability/logger.js';
import { DESTINATION_HEADER } from '../extproc/epp-protocol.js';
import { simDiscovery } from '../sim/discovery.js';
import { startSimPool } from '../sim/server.js';
import { poolShapeFor, roleLabels } from '../sim/config-peek.js';
import type { LabRequest } from './workload.js';

export const LAB_MODEL = 'lab-model';

export interface PoolOptions {
  readonly pods: number;
  /** KV cache per pod, in 16-token blocks. */
  readonly gpuBlocks: number;
  readonly maxRunning: number;
  readonly prefillTokensPerSecond: number;
  readonly decodeMsPerToken: number;
}

export const DEFAULT_POOL: PoolOptions = { pods: 4, gpuBlocks: 2048, maxRunning: 8, prefillTokensPerSecond: 10_000, decodeMsPerToken: 4 };

/** An arm: a config file for the EPP, or the round-robin baseline. */
export type Arm = { readonly name: string; readonly configFile: string } | { readonly name: 'round-robin'; readonly roundRobin: true };

export interface RequestResult {
  readonly status: number;
  readonly ttftMs: number;
  readonly latencyMs: number;
  readonly pod: string;
  readonly promptTokens: number;
  readonly cachedTokens: number;
}

export interface ArmResult {
  readonly arm: string;
  readonly seconds: number;
  readonly results: readonly RequestResult[];
  readonly pods: readonly string[];
}

async function send(url: string, r: LabRequest, i: number, target: { podOf: (res: Response) => string }): Promise<RequestResult> {
  const started = performance.now();
  const body = JSON.stringify({
    model: LAB_MODEL,
    max_tokens: r.maxTokens,
    stream: true,
    stream_options: { include_usage: true },
    messages: [
      { role: 'system', content: r.system },
      { role: 'user', content: r.user },
    ],
  });
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': `lab-${i}` }, body });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let ttftMs = NaN;
    let text = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      if (Number.isNaN(ttftMs)) ttftMs = performance.now() - started;
      text += decoder.decode(chunk.value, { stream: true });
    }
    const usage = /"prompt_tokens":(\d+)[^}]*?"prompt_tokens_details":\{"cached_tokens":(\d+)/.exec(text);
    return { status: res.status, ttftMs, latencyMs: performance.now() - started, pod: target.podOf(res), promptTokens: usage ? Number(usage[1]) : 0, cachedTokens: usage ? Number(usage[2]) : 0 };
  } catch {
    return { status: 0, ttftMs: NaN, latencyMs: performance.now() - started, pod: '', promptTokens: 0, cachedTokens: 0 };
  }
}

/** Sends `load` open-loop (each request at its time, whatever the others are doing) and waits for all. */
async function drive(load: readonly LabRequest[], send1: (r: LabRequest, i: number) => Promise<RequestResult>): Promise<{ results: RequestResult[]; seconds: number }> {
  const t0 = performance.now();
  const pending: Promise<RequestResult>[] = [];
  for (const [i, r] of load.entries()) {
    const wait = t0 + r.at - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    pending.push(send1(r, i));
  }
  const results = await Promise.all(pending);
  return { results, seconds: (performance.now() - t0) / 1000 };
}

export async function runArm(arm: Arm, load: readonly LabRequest[], pool: PoolOptions): Promise<ArmResult> {
  // The pods a config needs: KV events for a precise-prefix config, roles for a P/D one.
  const shape = 'roundRobin' in arm ? { kvEventsPort: undefined, disaggregated: false } : poolShapeFor(arm.configFile);
  const sims = await startSimPool(pool.pods, {
    ...(shape.kvEventsPort ? { kvEvents: { port: shape.kvEventsPort } } : {}),
    model: LAB_MODEL,
    numGpuBlocks: pool.gpuBlocks,
    maxRunning: pool.maxRunning,
    prefillTokensPerSecond: pool.prefillTokensPerSecond,
    decodeMsPerToken: pool.decodeMsPerToken,
  });
  const names = new Map(sims.servers.map((s) => [`${s.address}:${s.port}`, s.name]));
  try {
    if ('roundRobin' in arm) {
      const { results, seconds } = await drive(load, (r, i) => {
        const s = sims.servers[i % sims.servers.length]!;
        return send(`http://${s.address}:${s.port}/v1/chat/completions`, r, i, { podOf: () => s.name });
      });
      return { arm: arm.name, results, seconds, pods: sims.servers.map((s) => s.name) };
    }
    const silent = createLogger(0, { write: () => true } as unknown as NodeJS.WritableStream);
    const options = parseArgs(['--config-file', arm.configFile, '--secure-serving=false', '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0']);
    const epp = await startEpp(options, silent, { host: '127.0.0.1', discovery: simDiscovery(sims, roleLabels(shape.disaggregated, sims.servers.length)) });
    const gateway = await startGateway({ port: 0, host: '127.0.0.1', eppTarget: `127.0.0.1:${epp.grpcPort}`, credentials: grpc.credentials.createInsecure() });
    try {
      const deadline = Date.now() + 5000;
      while (epp.dataLayer.store.snapshot().endpoints.some((e) => e.metrics.updateTime === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const url = `http://127.0.0.1:${gateway.port}/v1/chat/completions`;
      const { results, seconds } = await drive(load, (r, i) => send(url, r, i, { podOf: (res) => names.get(res.headers.get(DESTINATION_HEADER) ?? '') ?? '' }));
      return { arm: arm.name, results, seconds, pods: sims.servers.map((s) => s.name) };
    } finally {
      await gateway.close();
      await epp.close();
    }
  } finally {
    await sims.close();
  }
}
