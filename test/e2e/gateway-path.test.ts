/**
 * The newcomer's path, whole: simulated vLLM servers, the real EPP (TLS on, self-signed, as deployed by
 * default), and the demo gateway; plain HTTP in, the pick out, metrics and health from the EPP's ports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimPool } from '../../src/sim/server.js';
import { startEpp } from '../../src/epp.js';
import { parseArgs } from '../../src/cli.js';
import { createLogger } from '../../src/observability/logger.js';
import { startGateway } from '../../src/gateway/gateway.js';
import { decodeHealthResponse, encodeHealthRequest, type HealthCheckResponse } from '../../src/server/health.js';
import { until } from '../helpers/until.js';

const quiet = createLogger(0, { write: () => true } as unknown as NodeJS.WritableStream);

test('gateway path: sim pool + EPP over TLS + gateway; JSON and SSE through curl-like requests; health and metrics', async () => {
  const pool = await startSimPool(2, { model: 'demo-model', decodeMsPerToken: 1, prefillTokensPerSecond: 50_000 });
  const dir = mkdtempSync(join(tmpdir(), 'epp-gw-'));
  const endpoints = join(dir, 'endpoints.yaml');
  writeFileSync(endpoints, `endpoints:\n${pool.servers.map((s) => `- {name: ${s.name}, address: ${s.address}, port: ${s.port}}`).join('\n')}\n`);
  const config = `plugins:\n- type: file-discovery\n  parameters: {path: ${JSON.stringify(endpoints)}}\n- type: queue-scorer\n- type: prefix-cache-scorer\nschedulingProfiles:\n- name: default\n  plugins: [{pluginRef: queue-scorer}, {pluginRef: prefix-cache-scorer, weight: 3}]\ndataLayer:\n  discovery: {pluginRef: file-discovery}\n`;
  const epp = await startEpp(parseArgs(['--config-text', config, '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0', '--refresh-metrics-interval=10ms']), quiet, { host: '127.0.0.1' });
  assert.ok(epp.certificatePem, 'TLS by default, with a generated certificate');
  const gateway = await startGateway({ port: 0, host: '127.0.0.1', eppTarget: `localhost:${epp.grpcPort}`, credentials: grpc.credentials.createSsl(Buffer.from(epp.certificatePem!)) });
  const health = new grpc.Client(`127.0.0.1:${epp.healthPort}`, grpc.credentials.createInsecure());
  const check = (service: string) =>
    new Promise<HealthCheckResponse>((resolve, reject) => health.makeUnaryRequest('/grpc.health.v1.Health/Check', encodeHealthRequest, decodeHealthResponse, { service }, (err, res) => (err ? reject(err) : resolve(res!))));
  try {
    assert.equal((await check('envoy.service.ext_proc.v3.ExternalProcessor')).status, 1, 'ready: discovery has run');
    await until(() => epp.dataLayer.store.snapshot().endpoints.every((e) => e.metrics.updateTime > 0), 'both pods scraped');
    const url = `http://127.0.0.1:${gateway.port}/v1/chat/completions`;
    const long = 'Tell me everything about paged attention and prefix caching. '.repeat(40);
    const picks: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'demo-model', messages: [{ role: 'user', content: long }], max_tokens: 4 }) });
      assert.equal(res.status, 200);
      picks.push(res.headers.get('x-gateway-destination-endpoint') ?? '');
      const json = (await res.json()) as { model: string; usage: { prompt_tokens_details: { cached_tokens: number } } };
      assert.equal(json.model, 'demo-model');
      if (i > 0) assert.ok(json.usage.prompt_tokens_details.cached_tokens > 0, 'the repeat landed where its prefix is cached');
    }
    assert.equal(new Set(picks).size, 1, 'prefix affinity keeps the long prompt on one pod');
    assert.ok(pool.servers.some((s) => picks[0] === `${s.address}:${s.port}`));

    const sse = await fetch(url, { method: 'POST', body: JSON.stringify({ model: 'demo-model', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }) });
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get('content-type') ?? '', /text\/event-stream/);
    const text = await sse.text();
    assert.ok(text.trimEnd().endsWith('data: [DONE]'));

    const bad = await fetch(url, { method: 'POST', body: '{"messages": []}' });
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), 'inference error: BadRequest - model not found in request body');

    const metrics = await (await fetch(`http://127.0.0.1:${epp.metricsPort}/metrics`)).text();
    assert.match(metrics, /^inference_objective_request_total\{model_name="demo-model",target_model_name="demo-model",priority="0"\} 4$/m);
    assert.match(metrics, /^inference_objective_request_error_total\{model_name="",target_model_name="",error_code="BadRequest"\} 1$/m);
    assert.match(metrics, /^inference_pool_ready_pods\{name="default"\} 2$/m);
    assert.match(metrics, /^inference_extension_scheduler_attempts_total\{status="success"\} 4$/m);
    await until(() => epp.extProc.openStreams === 0, 'every stream closed');
    assert.ok(epp.dataLayer.store.snapshot().endpoints.every((e) => e.load.inFlightRequests === 0), 'nothing left in flight');
  } finally {
    health.close();
    await gateway.close();
    await epp.close();
    await pool.close();
  }
});
