#!/usr/bin/env node
/**
 * `npm start`: the whole thing on one machine with nothing else installed. Four simulated vLLM servers,
 * the EPP on its usual ports (discovering them through a file, scraping their /metrics), and a small HTTP
 * gateway on :8080 that plays Envoy's part (ext_proc client of the EPP, reverse proxy to the chosen pod).
 * A dozen requests go through the gateway first, so a newcomer sees prefix affinity at work; then it keeps
 * serving for curl until Ctrl-C. EPP flags work as usual (`npm start -- --grpc-port=9102`); a config given
 * with --config-file runs as it is, the simulated pool handed to the EPP as its discovery (unless the config
 * names its own). Any start-up failure stops what had started and exits non-zero.
 */
import * as grpc from '@grpc/grpc-js';
import { parseArgs, usage } from '../cli.js';
import { parseGoFlags, flagUsage, type FlagSpec } from '../go-flags.js';
import { simDiscovery } from '../sim/discovery.js';
import { createLogger } from '../observability/logger.js';
import { startEpp } from '../epp.js';
import { startSimPool } from '../sim/server.js';
import { startGateway } from '../gateway/gateway.js';
import { DESTINATION_HEADER } from '../extproc/epp-protocol.js';
import { runCli } from '../run-cli.js';
import { ConfigError } from '../errors.js';
import { versionLine } from '../version.js';
import { poolShapeFor, roleLabels } from '../sim/config-peek.js';


/** The demo's own flags (the simulated pods); every other flag is the EPP's. */
const DEMO_FLAGS = {
  'sim-num-gpu-blocks': { kind: 'int', default: '16384', help: 'KV cache per simulated pod, in 16-token blocks (room for prompts of a few hundred KB).' },
  'sim-max-model-len': { kind: 'int', default: '0', help: 'Longest prompt + output per simulated pod in tokens; longer get 400; 0 = the whole KV cache.' },
} as const satisfies Record<string, FlagSpec>;

/** Splits argv into the demo's flags and the EPP's. */
function splitArgs(argv: readonly string[]): { demo: string[]; epp: string[] } {
  const demo: string[] = [];
  const epp: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.replace(/^--?/, '').split('=')[0]!;
    if (!(name in DEMO_FLAGS)) {
      epp.push(argv[i]!);
      continue;
    }
    demo.push(argv[i]!);
    if (!argv[i]!.includes('=') && i + 1 < argv.length) demo.push(argv[++i]!);
  }
  return { demo, epp };
}

const MODEL = 'demo-model';
const GATEWAY_PORT = Number(process.env['GATEWAY_PORT'] ?? 8080);

/** Three long documents asked about in turn, with short one-off questions in between. */
function prompts(count: number): string[] {
  const docs = ['the ext_proc protocol', 'paged attention', 'LoRA adapters'].map((topic) => `Here is a long design document about ${topic}. `.repeat(60));
  return Array.from({ length: count }, (_, i) => (i % 2 === 0 ? `${docs[(i / 2) % 3]}Question ${i}: what matters most?` : `Quick question ${i}: say hello.`));
}

async function main(): Promise<void> {
  const split = splitArgs(process.argv.slice(2));
  const options = parseArgs(split.epp);
  if (options.help) return void process.stdout.write(usage() + flagUsage('npm start -- (demo flags)', DEMO_FLAGS).split('\n').slice(1).join('\n'));
  if (options.version) return void process.stdout.write(versionLine('epp'));
  const demo = parseGoFlags(split.demo, DEMO_FLAGS).values;
  const log = createLogger(options.verbosity);
  // Ctrl-C is honoured from the start (during the warm-up requests too), not only once serving.
  let interrupted = false;
  const interrupt = new Promise<void>((resolve) => {
    const stop = () => ((interrupted = true), resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  // Everything started is stopped again in reverse order, on Ctrl-C and on any start-up failure alike.
  const stops: (() => Promise<void>)[] = [];
  try {
    // A precise-prefix config: the pods publish vLLM's KV events where it listens (each pod on its own loopback address).
    const shape = poolShapeFor(options.configFile, options.configText);
    const kvPort = shape.kvEventsPort;
    const pd = shape.disaggregated;
    const pool = await startSimPool(4, {
      ...(kvPort ? { kvEvents: { port: kvPort } } : {}),
      model: MODEL,
      decodeMsPerToken: 2,
      prefillTokensPerSecond: 50_000,
      numGpuBlocks: Number(demo.get('sim-num-gpu-blocks')),
      maxModelLen: Number(demo.get('sim-max-model-len')),
    });
    stops.push(() => pool.close());
    // The demo talks to the EPP over loopback in plaintext unless --secure-serving is given explicitly.
    const secure = split.epp.some((a) => /^--?secure-serving/.test(a)) && options.secureServing;
    const epp = await startEpp({ ...options, secureServing: secure }, log, { host: '127.0.0.1', discovery: simDiscovery(pool, roleLabels(pd, pool.servers.length)) });
    stops.push(() => epp.close());
    if (epp.dataLayer.discovery?.type !== 'simulated-pool') log.warn(`the config names its own discovery (dataLayer.discovery "${epp.dataLayer.discovery?.name}"): the simulated pool is not used`);
    const credentials = epp.certificatePem ? grpc.credentials.createSsl(Buffer.from(epp.certificatePem)) : grpc.credentials.createInsecure();
    let gateway: Awaited<ReturnType<typeof startGateway>>;
    try {
      gateway = await startGateway({ port: GATEWAY_PORT, host: '127.0.0.1', eppTarget: `localhost:${epp.grpcPort}`, credentials, log: { info: (m) => log.info(m), warn: (m) => log.warn(m) } });
    } catch (err) {
      throw new ConfigError('GATEWAY_PORT', `the demo gateway cannot listen on 127.0.0.1:${GATEWAY_PORT} (${(err as Error).message}); set GATEWAY_PORT to another port`);
    }
    stops.push(() => gateway.close());
    const say = (line: string) => process.stdout.write(line + '\n');
    say(`simulated pool: ${pool.servers.map((s, i) => `${s.name}${pd ? ` (${i < pool.servers.length / 2 ? 'prefill' : 'decode'})` : ''} ${s.address}:${s.port}`).join(', ')}`);
    say(`EPP: ext_proc on :${epp.grpcPort}, health on :${epp.healthPort}, metrics on http://localhost:${epp.metricsPort}/metrics; gateway on http://localhost:${gateway.port}`);
    say(`Status page (the pool, every decision with its scores): http://localhost:${epp.metricsPort}/status\n`);
    const deadline = Date.now() + 5000;
    while (epp.dataLayer.store.snapshot().endpoints.some((e) => e.metrics.updateTime === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const names = new Map(pool.servers.map((s) => [`${s.address}:${s.port}`, s.name]));
    for (const [i, prompt] of prompts(12).entries()) {
      if (interrupted) break;
      const res = await fetch(`http://localhost:${gateway.port}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, prompt, max_tokens: 8 }) });
      const chosen = res.headers.get(DESTINATION_HEADER) ?? '?';
      const text = await res.text();
      if (!res.ok) {
        say(`request ${String(i).padStart(2)} → HTTP ${res.status}: ${text}`);
        continue;
      }
      const usage = (JSON.parse(text) as { usage?: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens: number } } }).usage;
      const prefilledBy = res.headers.get('x-sim-prefilled-by');
      const prefill = pd ? (prefilledBy ? `   prefill on ${names.get(prefilledBy) ?? prefilledBy}` : '   decode only') : '';
      say(`request ${String(i).padStart(2)} (${String(usage?.prompt_tokens ?? '?').padStart(4)} tokens) → ${names.get(chosen) ?? chosen}   cached on arrival: ${usage?.prompt_tokens_details?.cached_tokens ?? '?'} tokens${prefill}`);
    }
    say(`\nTry it (Ctrl-C stops everything):
  curl -i localhost:${gateway.port}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"${MODEL}","messages":[{"role":"user","content":"hello"}]}'
  curl -N localhost:${gateway.port}/v1/chat/completions -d '{"model":"${MODEL}","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello"}]}'
  curl -s localhost:${epp.metricsPort}/metrics | grep inference_objective_request_total`);
    await interrupt;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

await runCli('npm start', main).catch((err: unknown) => {
  process.stderr.write(`npm start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
// Nothing is left to wait for: leave now rather than on some straggling handle.
process.exit(process.exitCode ?? 0);

