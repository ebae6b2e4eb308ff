import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { EndpointStore } from '../../src/datalayer/endpoint-store.js';
import { MetricsCollector } from '../../src/datalayer/collector.js';
import { DEFAULT_METRICS_MAPPING } from '../../src/plugins/core-metrics-extractor/engines.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { ScrapeMetrics } from '../../src/observability/scrape-metrics.js';
import { vllmPage } from '../helpers/vllm-page.js';
import { until } from '../helpers/until.js';

type Mode = 'good' | 'hang' | 'garbage' | 'error';

async function pod(mode: Mode) {
  const server = http.createServer((_req, res) => {
    if (mode === 'hang') return;
    if (mode === 'error') return void res.writeHead(500).end();
    res.end(mode === 'garbage' ? 'vllm:num_requests_waiting{ 12\nnonsense\n' : vllmPage());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

/** Sample value of `name{labels…}` in the exposition text (labels matched as substrings), or undefined. */
function value(text: string, name: string, ...labels: string[]): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name) && (l[name.length] === '{' || l[name.length] === ' ') && labels.every((x) => l.includes(x)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('scrape metrics: Go-named poll and extract error counters, per-pod durations and errors by reason, gone with the pod', async () => {
  const modes: Mode[] = ['good', 'hang', 'garbage', 'error'];
  const pods = await Promise.all(modes.map(pod));
  const registry = new Registry();
  const store = new EndpointStore(new LoadTracker());
  pods.forEach((p, i) => store.upsert({ name: modes[i]!, namespace: 'ns', address: '127.0.0.1', port: p.port, labels: {} }));
  const collector = new MetricsCollector(store, { mapping: DEFAULT_METRICS_MAPPING, intervalMs: 10, timeoutMs: 500, observer: new ScrapeMetrics(registry) });
  collector.sync(store.snapshot().endpoints);
  try {
    await until(async () => {
      const t = await registry.metrics();
      const at = (pod: string, reason: string) => value(t, 'llm_d_epp_datalayer_endpoint_poll_errors_total', `pod_name="${pod}"`, `reason="${reason}"`) ?? 0;
      return at('hang', 'timeout') >= 2 && at('garbage', 'extract') >= 1 && at('error', 'http-status') >= 1 && (value(t, 'llm_d_epp_datalayer_poll_duration_seconds_count', 'pod_name="good"') ?? 0) >= 2;
    }, 'two timeouts, a garbage page, a 500 and two good scrapes');
    const text = await registry.metrics();
    const polls = value(text, 'llm_d_epp_datalayer_poll_errors_total', 'source_type="metrics-data-source"')!;
    assert.ok(polls >= 3, `poll errors ${polls}`);
    assert.equal(value(text, 'llm_d_inference_scheduler_datalayer_poll_errors_total', 'source_type="metrics-data-source"'), polls, 'the legacy name counts the same');
    const extracts = value(text, 'llm_d_epp_datalayer_extract_errors_total', 'extractor_type="core-metrics-extractor"')!;
    assert.ok(extracts >= 1, `extract errors ${extracts}`);
    assert.equal(value(text, 'llm_d_inference_scheduler_datalayer_extract_errors_total', 'extractor_type="core-metrics-extractor"'), extracts);
    assert.ok(value(text, 'llm_d_epp_datalayer_endpoint_poll_errors_total', 'pod_name="error"', 'reason="http-status"')! >= 1);
    assert.ok(value(text, 'llm_d_epp_datalayer_endpoint_poll_errors_total', 'pod_name="garbage"', 'reason="extract"')! >= 1);
    assert.equal(value(text, 'llm_d_epp_datalayer_endpoint_poll_errors_total', 'pod_name="good"'), undefined, 'a healthy pod has no error series');
    assert.ok(value(text, 'llm_d_epp_datalayer_poll_duration_seconds_count', 'pod_name="good"', 'namespace="ns"', `port="${pods[0]!.port}"`)! >= 2);
    assert.ok(value(text, 'llm_d_epp_datalayer_poll_duration_seconds_bucket', 'pod_name="hang"', 'le="0.1"')! === 0, 'a timed-out scrape lasts the whole timeout');
    store.delete('ns/hang');
    store.delete('ns/error');
    collector.sync(store.snapshot().endpoints);
    const after = await registry.metrics();
    assert.equal(value(after, 'llm_d_epp_datalayer_poll_duration_seconds_count', 'pod_name="hang"'), undefined, 'a pod that left leaves no duration series');
    assert.equal(value(after, 'llm_d_epp_datalayer_endpoint_poll_errors_total', 'pod_name="error"'), undefined, 'nor error series');
    assert.equal(value(after, 'llm_d_epp_datalayer_poll_errors_total', 'source_type="metrics-data-source"')! >= polls, true, 'the Go totals keep counting');
  } finally {
    await collector.close();
    await Promise.all(pods.map((p) => p.close()));
  }
});

test('scrape metrics: a pod that leaves and comes back with the same metadata object counts into live series again', async () => {
  const registry = new Registry();
  const m = new ScrapeMetrics(registry);
  const meta = { name: 'p', namespace: 'ns', address: '127.0.0.1', port: 8000, labels: {} };
  const count = async () => value(await registry.metrics(), 'llm_d_epp_datalayer_poll_duration_seconds_count', 'pod_name="p"');
  const cases: [string, () => void, number | undefined][] = [
    ['two scrapes', () => (m.scraped(meta, 0.01, 'ok'), m.scraped(meta, 0.01, 'ok')), 2],
    ['the pod left', () => m.stopped(meta), undefined],
    ['back, the same object', () => m.scraped(meta, 0.01, 'ok'), 1],
    ['an equal new object', () => m.scraped({ ...meta }, 0.01, 'ok'), 2],
  ];
  for (const [name, act, want] of cases) {
    act();
    assert.equal(await count(), want, name);
  }
});
