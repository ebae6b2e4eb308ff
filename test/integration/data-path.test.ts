/**
 * The whole data path without the proxy: simulated servers → collector → endpoint store → scheduler with
 * the Go EPP's default config → the request really sent to the pick.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/framework/registry.js';
import { primaryTargets } from '../../src/framework/scheduling.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';
import { loadConfig } from '../../src/config/loader.js';
import { ProfileScheduler } from '../../src/scheduling/scheduler.js';
import { PickCycle } from '../../src/director/pick-cycle.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { EndpointStore } from '../../src/datalayer/endpoint-store.js';
import { MetricsCollector } from '../../src/datalayer/collector.js';
import { DEFAULT_METRICS_MAPPING } from '../../src/plugins/core-metrics-extractor/engines.js';
import { startSimPool } from '../../src/sim/server.js';
import { makeRequest, testServices } from '../helpers/fixtures.js';
import { until } from '../helpers/until.js';

test('routed by the default config, a repeated document returns to the server that cached it; busy servers are avoided', async () => {
  const pool = await startSimPool(3, { model: 'm', maxRunning: 1, decodeMsPerToken: 2 });
  const tracker = new LoadTracker();
  const config = loadConfig({}, registerInTreePlugins(new Registry()), testServices(3), { warn: () => {} });
  const store = new EndpointStore(tracker, config.endpointListeners);
  const collector = new MetricsCollector(store, { mapping: DEFAULT_METRICS_MAPPING, intervalMs: 10 });
  try {
    for (const s of pool.servers) store.upsert({ name: s.name, namespace: 'default', address: s.address, port: s.port, labels: {} });
    collector.sync(store.snapshot().endpoints);
    await until(() => store.snapshot().endpoints.every((e) => e.metrics.updateTime > 0), 'first scrapes');
    const cycle = new PickCycle({ producers: config.producers, scheduler: new ProfileScheduler(config.scheduler), preRequests: config.preRequests, loadTracker: tracker });

    const send = async (prompt: string, maxTokens: number) => {
      const { result, reservation } = cycle.runSync(makeRequest({ model: 'm', prompt }), store.snapshot().endpoints);
      const target = primaryTargets(result)[0]!.endpoint;
      const reply = fetch(`http://${target.hostPort}/v1/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', prompt, max_tokens: maxTokens }) })
        .then((r) => r.json() as Promise<{ usage: { prompt_tokens_details: { cached_tokens: number } } }>)
        .finally(() => tracker.release(reservation!));
      return { target: target.metadata.name, reply };
    };

    const doc = 'A long shared document about inference routing. '.repeat(100);
    const first = await send(doc + 'Q1', 2);
    await first.reply;
    const second = await send(doc + 'Q2', 2);
    assert.equal(second.target, first.target, 'prefix affinity');
    assert.ok((await second.reply).usage.prompt_tokens_details.cached_tokens > 1000);

    // Keep one server busy (maxRunning 1: a long request then a queued one), let a scrape see it, then route fresh prompts.
    const busy = pool.servers.find((s) => s.name !== first.target)!;
    const hold = [0, 1].map(() => fetch(`${busy.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', prompt: 'hold', max_tokens: 150 }) }));
    await until(() => store.get(`default/${busy.name}`)!.metrics.waitingQueueSize >= 1, 'the busy server\'s queue to be scraped');
    for (let i = 0; i < 6; i++) {
      const fresh = await send(`unrelated question number ${i} `.repeat(3), 1);
      assert.notEqual(fresh.target, busy.name, `request ${i} avoided the queued server`);
      await fresh.reply;
    }
    await Promise.all(hold);
  } finally {
    await collector.close();
    await pool.close();
  }
  assert.equal(tracker.totalInFlight(), 0, 'every reservation was released');
});
