import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EndpointStore } from '../../src/datalayer/endpoint-store.js';
import { MetricsCollector, type CollectorOptions } from '../../src/datalayer/collector.js';
import { DEFAULT_METRICS_MAPPING } from '../../src/plugins/core-metrics-extractor/engines.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { vllmPage } from '../helpers/vllm-page.js';
import { until } from '../helpers/until.js';
import { requestedNames, restrictToNames } from '../../src/sim/name-filter.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A fake model server whose /metrics behaviour the test swaps; it counts connections and concurrency. */
async function fakePod(handler: Handler) {
  const state = { handler, connections: 0, inFlight: 0, maxInFlight: 0, requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests++;
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    res.on('close', () => state.inFlight--);
    state.handler(req, res);
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const close = () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
  return { state, port, server, close };
}

const page = (waiting: number, kv = 0.25): Handler => (_req, res) => res.end(vllmPage({ waiting, kv }));


function setup(port: number, options: Partial<CollectorOptions> = {}) {
  const store = new EndpointStore(new LoadTracker());
  store.upsert({ name: 'pod', namespace: 'ns', address: '127.0.0.1', port, labels: {} });
  const changes: (string | undefined)[] = [];
  const collector = new MetricsCollector(store, { mapping: DEFAULT_METRICS_MAPPING, intervalMs: 10, timeoutMs: 300, onStateChange: (_k, p) => changes.push(p), ...options });
  collector.sync(store.snapshot().endpoints);
  const metrics = () => store.get('ns/pod')!.metrics;
  return { store, collector, changes, metrics };
}

test('scrapes on an interval over one kept-alive connection and publishes the figures', async () => {
  const pod = await fakePod(page(4, 0.5));
  const { collector, metrics } = setup(pod.port);
  try {
    await until(() => collector.scrapes('ns/pod') >= 10, '10 scrapes');
    assert.equal(metrics().waitingQueueSize, 4);
    assert.equal(metrics().kvCacheUsage, 0.5);
    assert.deepEqual([...metrics().activeModels], ['sql', 'chat']);
    assert.equal(metrics().cacheBlockSize, 16);
    assert.equal(pod.state.connections, 1, 'no new TCP connection per scrape');
    pod.state.handler = page(9);
    await until(() => metrics().waitingQueueSize === 9, 'the new figure');
  } finally {
    await collector.close();
    await pod.close();
  }
});

test('a slow pod never has two scrapes in flight, and a timeout keeps the last good figures', async () => {
  const pod = await fakePod(page(2));
  const { collector, changes, metrics } = setup(pod.port);
  try {
    await until(() => metrics().waitingQueueSize === 2, 'a first good scrape');
    pod.state.handler = () => {}; // never answers (a scrape already answered may still land: read the time after)
    await until(() => changes.some((c) => c?.startsWith('timeout')), 'a timeout');
    const goodTime = metrics().updateTime;
    const timeouts = () => changes.filter((c) => c?.startsWith('timeout')).length;
    const seen = pod.state.requests;
    await until(() => pod.state.requests > seen && timeouts() >= 1, 'another scrape that times out');
    await new Promise((r) => setTimeout(r, 400)); // past the 300 ms deadline of the scrape in flight
    assert.equal(pod.state.maxInFlight, 1);
    assert.equal(metrics().waitingQueueSize, 2);
    assert.equal(metrics().updateTime, goodTime, 'a failed scrape does not look fresh');
  } finally {
    await collector.close();
    await pod.close();
  }
});

test('bad pages: HTTP errors, garbage, NaN, oversize; none poisons the figures', async () => {
  const pod = await fakePod(page(3, 0.3));
  const { collector, changes, metrics } = setup(pod.port, { maxPageBytes: 200_000 });
  try {
    await until(() => metrics().waitingQueueSize === 3, 'a first good scrape');
    const cases: { name: string; handler: Handler; problem: RegExp }[] = [
      { name: 'HTTP 500', handler: (_q, r) => ((r.statusCode = 500), r.end('boom')), problem: /^http-status: HTTP 500$/ },
      { name: 'garbage', handler: (_q, r) => r.end('<html>not metrics</html>'), problem: /^incomplete page: vllm:num_requests_waiting: missing/ },
      { name: 'NaN', handler: (_q, r) => r.end('vllm:num_requests_waiting NaN\nvllm:num_requests_running 1\nvllm:kv_cache_usage_perc 0.3\n'), problem: /value NaN is not a finite number/ },
      { name: 'oversize (declared)', handler: (_q, r) => r.end('#'.repeat(1_000_000)), problem: /^too-large: page of 1000000 bytes is over the 200000-byte cap$/ },
      {
        name: 'oversize (streamed)',
        handler: (_q, r) => {
          r.write('#'.repeat(150_000));
          r.end('#'.repeat(150_000));
        },
        problem: /^too-large: page is over the 200000-byte cap$/,
      },
    ];
    for (const c of cases) {
      pod.state.handler = c.handler;
      await until(() => c.problem.test(changes.at(-1) ?? ''), c.name);
      assert.equal(metrics().waitingQueueSize, 3, c.name);
      assert.equal(metrics().kvCacheUsage, 0.3, c.name);
      pod.state.handler = page(3, 0.3);
      await until(() => changes.at(-1) === undefined, `recovery after ${c.name}`);
    }
  } finally {
    await collector.close();
    await pod.close();
  }
});

test('a pod that vanishes and comes back on the same port is scraped again', async () => {
  const pod = await fakePod(page(1));
  const { collector, changes, metrics } = setup(pod.port);
  try {
    await until(() => metrics().waitingQueueSize === 1, 'a first scrape');
    await pod.close();
    await until(() => changes.some((c) => c?.startsWith('connection')), 'a connection failure');
    const again = http.createServer(page(6));
    await new Promise<void>((r) => again.listen(pod.port, '127.0.0.1', r));
    try {
      await until(() => metrics().waitingQueueSize === 6, 'scrapes after the comeback');
      assert.equal(changes.at(-1), undefined);
    } finally {
      again.closeAllConnections();
      await new Promise<void>((r) => again.close(() => r()));
    }
  } finally {
    await collector.close();
  }
});

test('sync stops the loops of endpoints that left; close leaves nothing running', async () => {
  const pod = await fakePod(page(1));
  const { store, collector } = setup(pod.port);
  try {
    await until(() => collector.scrapes('ns/pod') > 0, 'a scrape');
    store.delete('ns/pod');
    collector.sync(store.snapshot().endpoints);
    const requests = pod.state.requests;
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(pod.state.requests <= requests + 1, 'at most the scrape already in flight');
    assert.equal(collector.scrapes('ns/pod'), 0);
  } finally {
    await collector.close();
    await pod.close();
  }
});

test('nameFilter: the page is asked for with one name[] per series the engine mapping reads, served filtered as prometheus_client does; off, the bare path', async () => {
  const urls: string[] = [];
  const pod = await fakePod((req, res) => {
    urls.push(req.url!);
    res.end(restrictToNames(vllmPage({ waiting: 3, kv: 0.4 }), requestedNames(req.url!)));
  });
  try {
    const on = setup(pod.port);
    await until(() => on.collector.scrapes('ns/pod') >= 2, 'scraped');
    await on.collector.close();
    const names = requestedNames(urls[0]!);
    assert.deepEqual(names.sort(), ['vllm:cache_config_info', 'vllm:gpu_cache_usage_perc', 'vllm:kv_cache_usage_perc', 'vllm:lora_requests_info', 'vllm:num_requests_running', 'vllm:num_requests_waiting']);
    assert.match(urls[0]!, /^\/metrics\?name%5B%5D=vllm%3A/);
    assert.equal(on.metrics().waitingQueueSize, 3);
    assert.equal(on.metrics().kvCacheUsage, 0.4);
    assert.equal(on.metrics().cacheBlockSize, 16);
    assert.deepEqual([...on.metrics().activeModels!], ['sql', 'chat']);
    assert.equal(on.collector.problem('ns/pod'), undefined, 'the filtered page is complete');

    // Off, against a pod of its own (a scrape the first collector had in flight may still land on the first).
    const plainUrls: string[] = [];
    const plain = await fakePod((req, res) => (plainUrls.push(req.url!), res.end(vllmPage({ waiting: 1 }))));
    try {
      const off = setup(plain.port, { nameFilter: false, path: '/metrics' });
      await until(() => off.collector.scrapes('ns/pod') >= 1, 'scraped');
      await off.collector.close();
      assert.deepEqual([...new Set(plainUrls)], ['/metrics']);
    } finally {
      await plain.close();
    }
  } finally {
    await pod.close();
  }
});
