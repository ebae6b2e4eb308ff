import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointStore } from '../../src/datalayer/endpoint-store.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import type { EndpointMetadata } from '../../src/framework/endpoint.js';

const meta = (name: string, address = '10.0.0.1', labels: Record<string, string> = {}): EndpointMetadata => ({ name, namespace: 'ns', address, port: 8000, labels });

test('snapshots are immutable and numbered: a new epoch only when something changed', () => {
  const store = new EndpointStore(new LoadTracker());
  const s0 = store.snapshot();
  store.upsert(meta('a'));
  store.upsert(meta('b', '10.0.0.2'));
  const s1 = store.snapshot();
  assert.equal(s1.epoch, s0.epoch + 1);
  assert.deepEqual(s1.endpoints.map((e) => e.hostPort), ['10.0.0.1:8000', '10.0.0.2:8000']);
  assert.equal(store.snapshot(), s1, 'no change, same snapshot');
  store.upsert(meta('a')); // identical: no change
  assert.equal(store.snapshot(), s1);

  store.updateMetrics('ns/a', { waitingQueueSize: 7, kvCacheUsage: 0.5, problems: [] }, 1000);
  const s2 = store.snapshot();
  assert.equal(s2.epoch, s1.epoch + 1);
  assert.equal(s1.endpoints[0]!.metrics.waitingQueueSize, 0, 'a reader holding the old snapshot sees the old figures');
  assert.equal(s2.endpoints[0]!.metrics.waitingQueueSize, 7);
  assert.ok(Object.isFrozen(s2.endpoints) && Object.isFrozen(s2.endpoints[0]) && Object.isFrozen(s2.endpoints[0]!.metrics));
});

test('a scrape missing a figure keeps the last good value; the update time still moves', () => {
  const store = new EndpointStore(new LoadTracker());
  store.upsert(meta('a'));
  store.updateMetrics('ns/a', { waitingQueueSize: 3, runningRequestsSize: 2, kvCacheUsage: 0.4, problems: [] }, 1000);
  store.updateMetrics('ns/a', { runningRequestsSize: 5, problems: ['vllm:num_requests_waiting: missing'] }, 2000);
  const m = store.snapshot().endpoints[0]!.metrics;
  assert.deepEqual([m.waitingQueueSize, m.runningRequestsSize, m.kvCacheUsage, m.updateTime], [3, 5, 0.4, 2000]);
});

test('attributes from a scrape or an attribute source: a new attribute map only when a value changed', () => {
  const store = new EndpointStore(new LoadTracker());
  store.upsert(meta('a'));
  const attrs = () => store.get('ns/a')!.attributes;
  const empty = attrs();
  store.updateMetrics('ns/a', { problems: [], attributes: new Map([['t/core-metrics-extractor', 60]]) }, 1000);
  const first = attrs();
  assert.notEqual(first, empty);
  assert.equal(first.get('t/core-metrics-extractor'), 60);
  store.updateMetrics('ns/a', { problems: [], attributes: new Map([['t/core-metrics-extractor', 60]]) }, 2000);
  assert.equal(attrs(), first, 'same value: same map (workers need not be sent it again)');
  store.updateMetrics('ns/a', { problems: [] }, 3000);
  assert.equal(attrs().get('t/core-metrics-extractor'), 60, 'a scrape without it keeps the last value');
  store.updateMetrics('ns/a', { problems: [], attributes: new Map([['t/core-metrics-extractor', 70]]) }, 4000);
  assert.deepEqual([attrs() !== first, attrs().get('t/core-metrics-extractor'), first.get('t/core-metrics-extractor')], [true, 70, 60]);
  // putAttributes (attribute sources) follows the same rule.
  const before = attrs();
  store.putAttributes('ns/a', new Map([['g/dcgm-extractor', 0.5]]));
  const withGpu = attrs();
  assert.notEqual(withGpu, before);
  store.putAttributes('ns/a', new Map([['g/dcgm-extractor', 0.5]]));
  assert.equal(attrs(), withGpu, 'an unchanged reading keeps the map');
  store.putAttributes('ns/a', new Map(), ['g/dcgm-extractor']);
  assert.deepEqual([attrs().has('g/dcgm-extractor'), withGpu.has('g/dcgm-extractor')], [false, true]);
});

test('deleting an endpoint tells the listeners and drops it; a late scrape for it is ignored', () => {
  const removed: string[] = [];
  const store = new EndpointStore(new LoadTracker(), [{ endpointRemoved: (k) => removed.push(k) }]);
  store.upsert(meta('a'));
  store.upsert(meta('b', '10.0.0.2'));
  store.delete('ns/a');
  store.delete('ns/unknown');
  store.updateMetrics('ns/a', { waitingQueueSize: 1, problems: [] }, 5);
  assert.deepEqual(removed, ['ns/a']);
  assert.deepEqual(store.snapshot().endpoints.map((e) => e.key), ['ns/b']);
});

test('an endpoint that moves address loses its old metrics; a label change keeps them', () => {
  const store = new EndpointStore(new LoadTracker());
  store.upsert(meta('a'));
  store.updateMetrics('ns/a', { waitingQueueSize: 9, problems: [] }, 1);
  store.upsert(meta('a', '10.0.0.1', { role: 'decode' }));
  assert.equal(store.snapshot().endpoints[0]!.metrics.waitingQueueSize, 9);
  assert.equal(store.snapshot().endpoints[0]!.metadata.labels['role'], 'decode');
  store.upsert(meta('a', '10.0.0.9'));
  assert.equal(store.snapshot().endpoints[0]!.metrics.waitingQueueSize, 0);
});

test('a scrape absorbs the dispatches made before it into the scraped figures', () => {
  let now = 100;
  const tracker = new LoadTracker(() => now);
  const store = new EndpointStore(tracker);
  store.upsert(meta('a'));
  tracker.reserve('ns/a', 10);
  now = 300;
  tracker.reserve('ns/a', 10);
  assert.equal(store.snapshot().endpoints[0]!.load.unscrapedDispatches, 2);
  store.updateMetrics('ns/a', { waitingQueueSize: 1, problems: [] }, 200);
  assert.equal(store.snapshot().endpoints[0]!.load.unscrapedDispatches, 1);
});

test('a snapshot is plain data: a structured clone keeps every figure, the live load included', () => {
  const tracker = new LoadTracker(() => 100);
  const store = new EndpointStore(tracker);
  store.upsert(meta('a'));
  tracker.reserve('ns/a', 7);
  const original = store.snapshot();
  const clone = structuredClone(original);
  assert.deepEqual(clone, original);
  assert.deepEqual(clone.endpoints[0]!.load, { inFlightRequests: 1, inFlightTokens: 7, unscrapedDispatches: 1 });
});

test('ready resolves waiters once', async () => {
  const store = new EndpointStore(new LoadTracker());
  let resolved = 0;
  const waiting = store.whenReady().then(() => resolved++);
  assert.equal(store.isReady, false);
  store.ready();
  store.ready();
  await waiting;
  await store.whenReady();
  assert.equal(resolved, 1);
});
