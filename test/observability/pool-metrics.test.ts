import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry as PromRegistry } from 'prom-client';
import { EndpointStore } from '../../src/datalayer/endpoint-store.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { staleReason } from '../../src/datalayer/staleness.js';
import { registerPoolMetrics } from '../../src/observability/pool-metrics.js';

test('pool gauges: ready pods, averages over fresh pods, per-pod queues, and stale pods by failure kind', async () => {
  const store = new EndpointStore(new LoadTracker());
  for (const name of ['a', 'b', 'c']) store.upsert({ name, namespace: 'ns', address: '10.0.0.1', port: 8000 + name.charCodeAt(0), labels: {} });
  store.updateMetrics('ns/a', { waitingQueueSize: 2, kvCacheUsage: 0.2, problems: [] }, 1000);
  store.updateMetrics('ns/b', { waitingQueueSize: 4, kvCacheUsage: 0.6, problems: [] }, 1000);
  store.updateMetrics('ns/c', { waitingQueueSize: 9, kvCacheUsage: 0.9, problems: [] }, 100); // old
  const problems: Record<string, string> = { 'ns/c': 'timeout: no complete page within 1000 ms' };
  const registry = new PromRegistry();
  registerPoolMetrics(registry, 'pool-1', {
    snapshot: () => store.snapshot(),
    staleReason: (e) => staleReason(e, 1100, 500, problems[e.key]),
    scrapeProblem: (key) => problems[key],
  });
  const text = await registry.metrics();
  const value = (series: string) => text.split('\n').find((l) => l.startsWith(series + ' '))?.split(' ')[1];
  assert.equal(value('inference_pool_ready_pods{name="pool-1"}'), '2');
  assert.equal(value('inference_pool_average_queue_size{name="pool-1"}'), '3');
  assert.equal(value('inference_pool_average_kv_cache_utilization{name="pool-1"}'), '0.4');
  assert.equal(value('inference_pool_per_pod_queue_size{name="pool-1",model_server_pod="c"}'), '9');
  assert.equal(value('inference_extension_model_server_stale{name="pool-1",model_server_pod="c",scrape_error="timeout"}'), '1');
  assert.equal(text.match(/^inference_extension_model_server_stale\{/gm)?.length, 1, 'fresh pods are not listed');

  delete problems['ns/c'];
  store.updateMetrics('ns/c', { problems: [] }, 1090);
  const after = await registry.metrics();
  assert.doesNotMatch(after, /^inference_extension_model_server_stale\{/m, 'a recovered pod leaves the stale list');
});
