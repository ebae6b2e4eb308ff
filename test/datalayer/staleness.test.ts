/** One staleness rule for every kind of scrape failure, on the injected clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStale, staleReason, unroutable } from '../../src/datalayer/staleness.js';
import type { ScrapeOutcome } from '../../src/datalayer/collector.js';
import { Registry } from '../../src/framework/registry.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';
import { loadConfig } from '../../src/config/loader.js';
import { startDataLayer } from '../../src/datalayer/data-layer.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import type { Endpoint } from '../../src/framework/endpoint.js';
import { makeEndpoint, testServices } from '../helpers/fixtures.js';
import { vllmPage } from '../helpers/vllm-page.js';
import { until } from '../helpers/until.js';

const at = (updateTime: number): Endpoint => {
  const e = makeEndpoint({ name: 'p' });
  return { ...e, metrics: { ...e.metrics, updateTime } };
};

test('staleness: every failure kind that got no page takes a stale pod out of routing; an incomplete page or a fresh one does not', () => {
  const cases: { outcome: ScrapeOutcome | undefined; out: boolean }[] = [
    { outcome: 'connection', out: true },
    { outcome: 'timeout', out: true },
    { outcome: 'http-status', out: true },
    { outcome: 'too-large', out: true },
    { outcome: 'protocol', out: true },
    { outcome: 'engine', out: true },
    { outcome: 'extract', out: false },
    { outcome: 'ok', out: false },
    { outcome: undefined, out: false },
  ];
  for (const c of cases) {
    assert.equal(unroutable(at(1_000), c.outcome, 10_000, 2_000), c.out, `stale, ${c.outcome}`);
    assert.equal(unroutable(at(9_000), c.outcome, 10_000, 2_000), false, `fresh, ${c.outcome}`);
  }
  assert.equal(isStale(at(0), 10, 2_000), true, 'never scraped');
  assert.equal(isStale(at(8_000), 10_000, 2_000), false, 'exactly at the threshold is fresh');
  assert.equal(staleReason(at(8_000), 10_000, 2_000), undefined);
  assert.equal(staleReason(at(1_000), 10_000, 2_000, 'http-status: HTTP 500'), 'metrics are 9000 ms old (threshold 2000 ms); last scrape: http-status: HTTP 500');
});

test('staleness: a pod whose metrics page starts answering HTTP 500 goes stale and unroutable on the data layer\'s clock', async () => {
  let failing = false;
  const server = http.createServer((_req, res) => {
    if (failing) return void res.writeHead(500).end('nope');
    res.end(vllmPage({ waiting: 0 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const file = join(mkdtempSync(join(tmpdir(), 'epp-stale-')), 'endpoints.yaml');
  writeFileSync(file, `endpoints:\n- {name: p, address: 127.0.0.1, port: ${port}}\n`);
  const config = loadConfig({ configText: `plugins:\n- type: file-discovery\n  parameters: {path: ${JSON.stringify(file)}}\n- type: queue-scorer\ndataLayer:\n  discovery: {pluginRef: file-discovery}\n` }, registerInTreePlugins(new Registry()), testServices(), { warn: () => {} });
  let clock = 1_000_000;
  const dl = await startDataLayer(config, { tracker: new LoadTracker(), refreshMs: 10, stalenessMs: 2_000, now: () => clock });
  try {
    const pod = () => dl.store.snapshot().endpoints[0]!;
    await until(() => pod()?.metrics.updateTime === clock, 'first scrape');
    failing = true;
    await until(() => dl.collector!.lastOutcome(pod().key) === 'http-status', 'a failed scrape');
    assert.equal(dl.unroutable(pod()), false, 'not yet stale: still routable');
    clock += 2_001; // time passes on the injected clock only
    assert.equal(dl.unroutable(pod()), true, 'stale with an HTTP error: out of the candidates');
    assert.match(dl.staleReason(pod())!, /^metrics are 2001 ms old \(threshold 2000 ms\); last scrape: http-status: HTTP 500/);
    failing = false;
    await until(() => dl.collector!.lastOutcome(pod().key) === 'ok', 'healthy again');
    assert.equal(dl.unroutable(pod()), false);
  } finally {
    await dl.close();
    server.close();
  }
});
