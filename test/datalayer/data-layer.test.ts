import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../src/framework/registry.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';
import { loadConfig } from '../../src/config/loader.js';
import { startDataLayer } from '../../src/datalayer/data-layer.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { startSimPool } from '../../src/sim/server.js';
import { ConfigError } from '../../src/errors.js';
import { testServices } from '../helpers/fixtures.js';
import { until } from '../helpers/until.js';

const load = (text: string) => loadConfig({ configText: text }, registerInTreePlugins(new Registry()), testServices(), { warn: () => {} });
const endpointsYaml = (servers: readonly { name: string; port: number }[]) =>
  `endpoints:\n${servers.map((s) => `- {name: ${s.name}, address: 127.0.0.1, port: ${s.port}}`).join('\n')}\n`;

test('file discovery + default collection: endpoints appear scraped, leave when the file drops them, and a dead one is stale with its reason', async () => {
  const pool = await startSimPool(3);
  const dir = mkdtempSync(join(tmpdir(), 'epp-dl-'));
  const file = join(dir, 'endpoints.yaml');
  writeFileSync(file, endpointsYaml(pool.servers));
  const config = load(`
plugins:
- type: file-discovery
  parameters: {path: ${JSON.stringify(file)}, watchFile: true}
- type: queue-scorer
dataLayer:
  discovery: {pluginRef: file-discovery}
`);
  const warnings: string[] = [];
  const dl = await startDataLayer(config, { tracker: new LoadTracker(), refreshMs: 10, stalenessMs: 150, log: { warn: (m) => warnings.push(m), info: () => {} } });
  try {
    assert.equal(dl.store.isReady, true);
    await until(() => dl.store.snapshot().endpoints.length === 3 && dl.store.snapshot().endpoints.every((e) => e.metrics.updateTime > 0), 'three scraped endpoints');
    assert.deepEqual(dl.store.snapshot().endpoints.map((e) => dl.staleReason(e)), [undefined, undefined, undefined]);

    writeFileSync(file, endpointsYaml(pool.servers.slice(0, 2)));
    await until(() => dl.store.snapshot().endpoints.length === 2, 'the dropped endpoint to leave');
    assert.equal(dl.collector!.scrapes(`default/${pool.servers[2]!.name}`), 0, 'its scrape loop stopped');

    await pool.servers[1]!.close();
    const dead = () => dl.store.get(`default/${pool.servers[1]!.name}`)!;
    await until(() => dl.staleReason(dead()) !== undefined, 'the dead endpoint to go stale');
    assert.match(dl.staleReason(dead())!, /^metrics are \d+ ms old \(threshold 150 ms\); last scrape: connection: /);
    assert.ok(warnings.some((w) => w.startsWith(`metrics scrape of default/${pool.servers[1]!.name} failing: connection`)), warnings.join('\n'));
    assert.equal(dl.staleReason(dl.store.get(`default/${pool.servers[0]!.name}`)!), undefined);
  } finally {
    await dl.close();
    await pool.close();
  }
});

test('a configured data source path is used; injectDefaults: false with no sources collects nothing', async () => {
  const pool = await startSimPool(1);
  const config = load(`
plugins:
- type: metrics-data-source
  parameters: {path: /not-metrics}
- type: core-metrics-extractor
dataLayer:
  sources: [{pluginRef: metrics-data-source, extractors: [{pluginRef: core-metrics-extractor}]}]
`);
  const dl = await startDataLayer(config, { tracker: new LoadTracker(), refreshMs: 10, stalenessMs: 2000 });
  try {
    dl.sink.upsert({ name: 'p', namespace: 'ns', address: '127.0.0.1', port: pool.servers[0]!.port, labels: {} });
    await until(() => dl.collector!.problem('ns/p') !== undefined, 'a scrape of the configured path');
    assert.equal(dl.collector!.problem('ns/p'), 'http-status: HTTP 404');
    assert.equal(dl.staleReason(dl.store.get('ns/p')!), 'never scraped; last scrape: http-status: HTTP 404');
  } finally {
    await dl.close();
    await pool.close();
  }
  const none = await startDataLayer(load('plugins: [{type: queue-scorer}]\ndataLayer: {injectDefaults: false}\n'), { tracker: new LoadTracker(), refreshMs: 10, stalenessMs: 2000 });
  assert.equal(none.collector, undefined);
  await none.close();
  // A GPU exporter source alone does not replace the pods' metrics source (llm-d injects it beside), unless opted out.
  const gpu = 'plugins: [{type: dcgm-data-source}, {type: dcgm-extractor}]\ndataLayer:\n  sources: [{pluginRef: dcgm-data-source, extractors: [{pluginRef: dcgm-extractor}]}]\n';
  assert.deepEqual(load(gpu).defaultMetricsSource, { source: 'metrics-data-source', mapper: 'core-metrics-extractor' });
  assert.deepEqual(load(`${gpu}  injectDefaults: false\n`).defaultMetricsSource, {});
});

test('the metrics source is found wherever it is listed: a notification-only source before it is no metrics source', async () => {
  const config = load(`
plugins:
- type: endpoint-notification-source
- type: metrics-data-source
  parameters: {path: /not-metrics}
- type: core-metrics-extractor
dataLayer:
  sources:
  - pluginRef: endpoint-notification-source
  - {pluginRef: metrics-data-source, extractors: [{pluginRef: core-metrics-extractor}]}
`);
  assert.equal(config.metricsSourceIndex, 1);
  const pool = await startSimPool(1);
  const dl = await startDataLayer(config, { tracker: new LoadTracker(), refreshMs: 10, stalenessMs: 2000 });
  try {
    dl.sink.upsert({ name: 'p', namespace: 'ns', address: '127.0.0.1', port: pool.servers[0]!.port, labels: {} });
    await until(() => dl.collector!.problem('ns/p') !== undefined, 'a scrape of the configured path');
    assert.equal(dl.collector!.problem('ns/p'), 'http-status: HTTP 404', 'the configured source (its path), not the default');
  } finally {
    await dl.close();
    await pool.close();
  }
  // Alone it names no metrics source: the default is injected beside it.
  const alone = load('plugins: [{type: endpoint-notification-source}]\ndataLayer: {sources: [{pluginRef: endpoint-notification-source}]}\n');
  assert.equal(alone.metricsSourceIndex, -1);
  assert.deepEqual(alone.defaultMetricsSource, { source: 'metrics-data-source', mapper: 'core-metrics-extractor' });
});

test('refs to plugins of the wrong kind are config errors naming the path', async () => {
  const cases: [string, string][] = [
    ['plugins: [{type: queue-scorer}]\ndataLayer: {discovery: {pluginRef: queue-scorer}}\n', 'dataLayer.discovery.pluginRef: plugin "queue-scorer" (queue-scorer) is not an endpoint discovery plugin'],
    ['plugins: [{type: queue-scorer}]\ndataLayer: {sources: [{pluginRef: queue-scorer}]}\n', 'dataLayer.sources[0].pluginRef: plugin "queue-scorer" (queue-scorer) is not a metrics data source'],
    ['plugins: [{type: dcgm-data-source}, {type: metrics-data-source}]\ndataLayer: {sources: [{pluginRef: dcgm-data-source}, {pluginRef: metrics-data-source}]}\n', 'dataLayer.sources[0].extractors: data source "dcgm-data-source" (dcgm-data-source) needs an extractor to turn its page into attributes'],
    ['plugins: [{type: dcgm-data-source}, {type: core-metrics-extractor}]\ndataLayer: {sources: [{pluginRef: dcgm-data-source, extractors: [{pluginRef: core-metrics-extractor}]}]}\n', 'dataLayer.sources[0].extractors[0].pluginRef: plugin "core-metrics-extractor" (core-metrics-extractor) is not an extractor for dcgm-data-source'],
    ['plugins: [{type: dcgm-extractor}, {type: metrics-data-source}]\ndataLayer: {sources: [{pluginRef: metrics-data-source, extractors: [{pluginRef: dcgm-extractor}]}]}\n', 'dataLayer.sources[0].extractors[0].pluginRef: plugin "dcgm-extractor" (dcgm-extractor) is not a metrics extractor'],
  ];
  for (const [text, message] of cases) {
    await assert.rejects(startDataLayer(load(text), { tracker: new LoadTracker(), refreshMs: 10, stalenessMs: 2000 }), (e: unknown) => e instanceof ConfigError && e.message === message, message);
  }
});

test('the default source and extractor come from the registry: a registry without defaults collects nothing, one with them injects both', async () => {
  const bare = new Registry();
  const withDefaults = registerInTreePlugins(new Registry());
  for (const r of ['queue-scorer', 'max-score-picker', 'single-profile-handler']) bare.register(withDefaults.get(r)!);
  const noDefaults = loadConfig({ configText: 'plugins: [{type: queue-scorer}]\n' }, bare, testServices(), { warn: () => {} });
  assert.deepEqual(noDefaults.defaultMetricsSource, {});
  const dl = await startDataLayer(noDefaults, { tracker: new LoadTracker(), refreshMs: 10, stalenessMs: 2000 });
  assert.equal(dl.collector, undefined);
  await dl.close();
  const injected = load('plugins: [{type: queue-scorer}]\n');
  assert.deepEqual(injected.defaultMetricsSource, { source: 'metrics-data-source', mapper: 'core-metrics-extractor' });
  assert.equal(injected.plugins.get('core-metrics-extractor')?.type, 'core-metrics-extractor');
});
