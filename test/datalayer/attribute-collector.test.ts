/** The attribute collector: reads per endpoint on the rounded interval, node addresses, failures, staleness, close. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EndpointStore } from '../../src/datalayer/endpoint-store.js';
import { AttributeCollector, roundedInterval } from '../../src/datalayer/attribute-collector.js';
import { DcgmDataSource } from '../../src/plugins/dcgm-data-source/index.js';
import { DcgmExtractor, GPU_UTILIZATION_KEY } from '../../src/plugins/dcgm-extractor/index.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { until } from '../helpers/until.js';

test('roundedInterval: the nearest multiple of the refresh interval, at least one; none asked: every tick', () => {
  const cases: [number | undefined, number, number][] = [
    [undefined, 50, 50],
    [1000, 50, 1000],
    [1020, 50, 1000],
    [1030, 50, 1050],
    [10, 50, 50],
  ];
  for (const [asked, base, want] of cases) assert.equal(roundedInterval(asked, base), want, `${asked} on ${base}`);
});

async function exporter() {
  const state = { status: 200, util: 42, requests: 0 };
  const server = http.createServer((_req, res) => {
    state.requests++;
    res.statusCode = state.status;
    res.end(`DCGM_FI_DEV_GPU_UTIL{gpu="0"} ${state.util}\nDCGM_FI_DEV_FB_USED{gpu="0"} 1000\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { state, port: (server.address() as AddressInfo).port, close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))) };
}

function setup(port: number, page: Partial<DcgmDataSource['attributePage']>, stalenessMs = 150) {
  const store = new EndpointStore(new LoadTracker());
  const problems: (string | undefined)[] = [];
  const source = new DcgmDataSource('dcgm', { scheme: 'http', path: '/metrics', port, insecureSkipVerify: true, useNodeAddress: false, intervalMs: undefined, ...page });
  const collector = new AttributeCollector(store, { source, extractors: [new DcgmExtractor('dcgm-extractor')], baseIntervalMs: 10, timeoutMs: 300, maxPageBytes: 1 << 20, stalenessMs, now: Date.now, onStateChange: (_k, p) => problems.push(p) });
  const gpu = () => store.get('ns/pod')?.attributes.get(GPU_UTILIZATION_KEY);
  return { store, collector, problems, gpu };
}

test('reads the page on the source port, writes the attribute with a new map, and follows changes', async () => {
  const dcgm = await exporter();
  const { store, collector, gpu } = setup(dcgm.port, {});
  store.upsert({ name: 'pod', namespace: 'ns', address: '127.0.0.1', port: 1, labels: {} });
  try {
    const before = store.get('ns/pod')!.attributes;
    collector.sync(store.snapshot().endpoints);
    await until(() => gpu() === 0.42, 'the first reading');
    assert.notEqual(store.get('ns/pod')!.attributes, before, 'a new attribute map: snapshots taken before keep theirs');
    assert.equal(before.size, 0);
    dcgm.state.util = 77;
    await until(() => gpu() === 0.77, 'the new reading');
  } finally {
    await collector.close();
    await dcgm.close();
  }
});

test('a failing exporter: the problem is reported, the last reading is kept until it is stale, then dropped; recovery restores it', async () => {
  const dcgm = await exporter();
  const { store, collector, problems, gpu } = setup(dcgm.port, {}, 200);
  store.upsert({ name: 'pod', namespace: 'ns', address: '127.0.0.1', port: 1, labels: {} });
  try {
    collector.sync(store.snapshot().endpoints);
    await until(() => gpu() === 0.42, 'the first reading');
    dcgm.state.status = 500;
    await until(() => collector.problem('ns/pod') !== undefined, 'the failure');
    assert.match(collector.problem('ns/pod')!, /^http-status: /);
    assert.equal(gpu(), 0.42, 'still within the staleness threshold');
    await until(() => gpu() === undefined, 'the stale reading dropped');
    dcgm.state.status = 200;
    await until(() => gpu() === 0.42 && collector.problem('ns/pod') === undefined, 'recovery');
    assert.deepEqual([problems[0], problems.at(-1)], [problems[0], undefined]);
    assert.match(problems[0]!, /http-status/);
  } finally {
    await collector.close();
    await dcgm.close();
  }
});

test('useNodeAddress reads at the node address; an endpoint without one says so', async () => {
  const dcgm = await exporter();
  const { store, collector, gpu } = setup(dcgm.port, { useNodeAddress: true });
  // The pod address is unroutable: only the node address can answer.
  store.upsert({ name: 'pod', namespace: 'ns', address: '192.0.2.1', port: 1, labels: {}, nodeAddress: '127.0.0.1' });
  store.upsert({ name: 'bare', namespace: 'ns', address: '127.0.0.1', port: 2, labels: {} });
  try {
    collector.sync(store.snapshot().endpoints);
    await until(() => gpu() === 0.42, 'read via the node address');
    assert.match(collector.problem('ns/bare') ?? '', /no node address/);
    assert.equal(store.get('ns/bare')!.attributes.size, 0);
  } finally {
    await collector.close();
    await dcgm.close();
  }
});

test('an endpoint that leaves stops being read; close leaves no timer or connection behind', async () => {
  const dcgm = await exporter();
  const { store, collector, gpu } = setup(dcgm.port, { intervalMs: 20 });
  store.upsert({ name: 'pod', namespace: 'ns', address: '127.0.0.1', port: 1, labels: {} });
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const timersBefore = timers();
  try {
    collector.sync(store.snapshot().endpoints);
    assert.equal(collector.intervalMs, 20);
    await until(() => gpu() === 0.42, 'a reading');
    store.delete('ns/pod');
    collector.sync(store.snapshot().endpoints);
    const after = dcgm.state.requests;
    await new Promise((r) => setTimeout(r, 80));
    assert.ok(dcgm.state.requests <= after + 1, `no reads after the endpoint left (${dcgm.state.requests - after})`);
    assert.equal(timers(), timersBefore, 'no endpoint left: the ticker stopped');
  } finally {
    await collector.close();
    await dcgm.close();
  }
});
