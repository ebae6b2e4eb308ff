#!/usr/bin/env node
/**
 * `npm start`: the whole thing on one machine with nothing else installed. Four simulated vLLM servers,
 * the EPP on its usual ports (discovering them through a file, scraping their /metrics), and a small HTTP
 * gateway on :8080 that plays Envoy's part (ext_proc client of the EPP, reverse proxy to the chosen pod).
 * A dozen requests go through the gateway first, so a newcomer sees prefix affinity at work; then it keeps
 * serving for curl until Ctrl-C. EPP flags work as usual (`npm start -- --grpc-port=9102`); a config given
 * with --config-file replaces the default scheduling, and the simulated pool is added to it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { parseArgs, usage } from '../cli.js';
import { readConfigText } from '../config/loader.js';
import { createLogger } from '../observability/logger.js';
import { startEpp } from '../epp.js';
import { startSimPool } from '../sim/server.js';
import { startGateway } from '../gateway/gateway.js';
import { DESTINATION_HEADER } from '../extproc/epp-protocol.js';
import { runCli } from '../run-cli.js';
import { ConfigError } from '../errors.js';

const MODEL = 'demo-model';
const GATEWAY_PORT = Number(process.env['GATEWAY_PORT'] ?? 8080);

/** Three long documents asked about in turn, with short one-off questions in between. */
function prompts(count: number): string[] {
  const docs = ['the ext_proc protocol', 'paged attention', 'LoRA adapters'].map((topic) => `Here is a long design document about ${topic}. `.repeat(60));
  return Array.from({ length: count }, (_, i) => (i % 2 === 0 ? `${docs[(i / 2) % 3]}Question ${i}: what matters most?` : `Quick question ${i}: say hello.`));
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) return void process.stdout.write(usage());
  const log = createLogger(options.verbosity);
  const pool = await startSimPool(4, { model: MODEL, decodeMsPerToken: 2, prefillTokensPerSecond: 10_000 });
  const dir = mkdtempSync(join(tmpdir(), 'epp-quickstart-'));
  const endpointsFile = join(dir, 'endpoints.yaml');
  writeFileSync(endpointsFile, `endpoints:\n${pool.servers.map((s) => `- {name: ${s.name}, address: ${s.address}, port: ${s.port}}`).join('\n')}\n`);
  const base = readConfigText({ configFile: options.configFile || undefined, configText: options.configText || undefined }).text;
  const discovery = `plugins:\n- type: file-discovery\n  parameters: {path: ${JSON.stringify(endpointsFile)}}\n`;
  const configText = `${base.replace(/^plugins:\s*\n/m, discovery)}\ndataLayer:\n  discovery: {pluginRef: file-discovery}\n`;
  // The demo talks to the EPP over loopback in plaintext unless --secure-serving is given explicitly.
  const secure = process.argv.some((a) => a.startsWith('--secure-serving')) && options.secureServing;
  const epp = await startEpp({ ...options, configFile: '', configText, secureServing: secure }, log, { host: '127.0.0.1' });
  const credentials = epp.certificatePem ? grpc.credentials.createSsl(Buffer.from(epp.certificatePem)) : grpc.credentials.createInsecure();
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    try {
      gateway = await startGateway({ port: GATEWAY_PORT, host: '127.0.0.1', eppTarget: `localhost:${epp.grpcPort}`, credentials, log: { info: (m) => log.info(m), warn: (m) => log.warn(m) } });
    } catch (err) {
      throw new ConfigError('GATEWAY_PORT', `the demo gateway cannot listen on 127.0.0.1:${GATEWAY_PORT} (${(err as Error).message}); set GATEWAY_PORT to another port`);
    }
    const say = (line: string) => process.stdout.write(line + '\n');
    say(`simulated pool: ${pool.servers.map((s) => `${s.name} ${s.address}:${s.port}`).join(', ')}`);
    say(`EPP: ext_proc on :${epp.grpcPort}, health on :${epp.healthPort}, metrics on http://localhost:${epp.metricsPort}/metrics; gateway on http://localhost:${gateway.port}\n`);
    const deadline = Date.now() + 5000;
    while (epp.dataLayer.store.snapshot().endpoints.some((e) => e.metrics.updateTime === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const names = new Map(pool.servers.map((s) => [`${s.address}:${s.port}`, s.name]));
    for (const [i, prompt] of prompts(12).entries()) {
      const res = await fetch(`http://localhost:${gateway.port}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, prompt, max_tokens: 8 }) });
      const chosen = res.headers.get(DESTINATION_HEADER) ?? '?';
      const text = await res.text();
      if (!res.ok) {
        say(`request ${String(i).padStart(2)} → HTTP ${res.status}: ${text}`);
        continue;
      }
      const usage = (JSON.parse(text) as { usage?: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens: number } } }).usage;
      say(`request ${String(i).padStart(2)} (${String(usage?.prompt_tokens ?? '?').padStart(4)} tokens) → ${names.get(chosen) ?? chosen}   cached on arrival: ${usage?.prompt_tokens_details?.cached_tokens ?? '?'} tokens`);
    }
    say(`\nTry it (Ctrl-C stops everything):
  curl -i localhost:${gateway.port}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"${MODEL}","messages":[{"role":"user","content":"hello"}]}'
  curl -N localhost:${gateway.port}/v1/chat/completions -d '{"model":"${MODEL}","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello"}]}'
  curl -s localhost:${epp.metricsPort}/metrics | grep inference_objective_request_total`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } finally {
    await gateway?.close();
    await epp.close();
    await pool.close();
  }
}

await runCli('epp', main);
