/**
 * llm-d's GPU-aware sample config (test/fixtures/llm-d/sim-epp-gpu-config.yaml) end to end: a DCGM
 * exporter (one page for both pods, DaemonSet style, samples labelled by pod) read by dcgm-data-source, turned into GPUUtilization by dcgm-extractor, used by
 * endpoint-attribute-filter and -scorer; the default metrics source keeps scraping the pods beside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { destinationOf, fakePods, requestBody, requestHeaders, startTestEpp, Stream } from '../helpers/ext-proc-harness.js';
import { GPU_UTILIZATION_KEY } from '../../src/plugins/dcgm-extractor/index.js';
import { until } from '../helpers/until.js';
import { llmdSample } from '../helpers/config-cycle.js';

/** llm-d's sample, verbatim but for the exporter's port and a faster read interval (its decode-filter keeps unlabelled pods). */
const config = (port: number) => {
  const sample = llmdSample('sim-epp-gpu-config.yaml');
  const text = sample.replace('port: 9400', `port: ${port}`).replace('interval: "1s"', 'interval: "20ms"');
  assert.notEqual(text.indexOf(`port: ${port}`), -1, 'the sample names the exporter port');
  return text;
};

test('e2e GPU-aware routing: DCGM utilization per pod filters and scores; a change in utilization moves traffic', async () => {
  const fake = await fakePods([{ waiting: 0, kv: 0.1 }, { waiting: 0, kv: 0.1 }]);
  const util: Record<string, number> = { 'pod-0': 95, 'pod-1': 30 };
  const exporter = http.createServer((_req, res) =>
    res.end(`# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n${Object.entries(util).map(([pod, v]) => `DCGM_FI_DEV_GPU_UTIL{gpu="0",pod="${pod}",namespace="default"} ${v}`).join('\n')}\n`),
  );
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  const t = await startTestEpp({ endpoints: fake.pods.map((p) => ({ name: p.name, port: p.port })), config: config((exporter.address() as AddressInfo).port) });
  const gpu = (name: string) => t.epp.dataLayer.store.get(`default/${name}`)?.attributes.get(GPU_UTILIZATION_KEY);
  const route = async () => {
    const s = new Stream(t.client).send(requestHeaders({})).send(requestBody(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] })));
    await s.responses(1);
    s.cancel();
    return destinationOf(s.received);
  };
  try {
    await until(() => gpu('pod-0') === 0.95 && gpu('pod-1') === 0.3, 'both pods’ GPU utilization read');
    for (let i = 0; i < 5; i++) assert.equal(await route(), fake.pods[1]!.hostPort, 'pod-0 is over 90 % busy: filtered out');

    util['pod-0'] = 10;
    util['pod-1'] = 80;
    await until(() => gpu('pod-0') === 0.1, 'the new reading');
    for (let i = 0; i < 5; i++) assert.equal(await route(), fake.pods[0]!.hostPort, 'the less busy GPU scores higher');
    assert.ok(t.epp.dataLayer.store.snapshot().endpoints.every((e) => e.metrics.updateTime > 0), 'the pods’ own metrics are still scraped');
  } finally {
    await t.close();
    await fake.close();
    await new Promise((r) => (exporter.closeAllConnections(), exporter.close(r)));
  }
});
