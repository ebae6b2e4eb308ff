/**
 * Child process for the memory benchmark (run with --expose-gc): `pods` endpoints scraped every 50 ms by
 * the real collector (their pages come from page servers in another process, ports in argv[2]) and the
 * default approx-prefix-cache-producer's index filled to each pod's LRU capacity (llm-d's default 31,250
 * blocks) with distinct blocks, learned 64 at a time as 4 KB prompts would be. Prints one JSON line.
 */
import { EndpointStore } from '../src/datalayer/endpoint-store.js';
import { MetricsCollector } from '../src/datalayer/collector.js';
import { DEFAULT_METRICS_MAPPING } from '../src/plugins/core-metrics-extractor/engines.js';
import { LoadTracker } from '../src/director/load-tracker.js';
import { ApproxPrefixCacheProducer, DEFAULT_PREFIX_CACHE_CONFIG } from '../src/plugins/approx-prefix-cache-producer/index.js';
import { seededRandom } from '../src/scheduling/random.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const ports = JSON.parse(process.argv[2] ?? '[]') as number[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(50);
  }
  return process.memoryUsage();
};

const before = await settle();
const tracker = new LoadTracker();
const producer = new ApproxPrefixCacheProducer('approx-prefix-cache-producer', DEFAULT_PREFIX_CACHE_CONFIG);
const store = new EndpointStore(tracker, [producer]);
ports.forEach((port, i) => store.upsert({ name: `pod-${i}`, namespace: 'bench', address: '127.0.0.1', port, labels: {} }));
store.ready();
const collector = new MetricsCollector(store, { mapping: DEFAULT_METRICS_MAPPING, intervalMs: 50 });
collector.sync(store.snapshot().endpoints);
await sleep(2000); // every pod scraped many times: connections, read and page buffers at their steady size
const scraped = await settle();

const capacity = DEFAULT_PREFIX_CACHE_CONFIG.lruCapacityPerServer;
const random = seededRandom(11);
const hashes = new Float64Array(64);
const fillStart = performance.now();
for (const e of store.snapshot().endpoints) {
  for (let learned = 0; learned < capacity; learned += hashes.length) {
    for (let i = 0; i < hashes.length; i++) hashes[i] = Math.floor(random.next() * 2 ** 53);
    producer.index.add(e.key, hashes, capacity);
  }
}
const fillMs = performance.now() - fillStart;
const full = await settle();
const blocks = producer.index.entries;
const scrapes = ports.reduce((n, _p, i) => n + collector.scrapes(`bench/pod-${i}`), 0);
await collector.close();
process.stdout.write(
  JSON.stringify({
    pods: ports.length,
    blocks,
    distinct: producer.index.size,
    indexBytes: producer.index.bytes,
    fillMs,
    scrapes,
    before: { rss: before.rss, heapUsed: before.heapUsed, arrayBuffers: before.arrayBuffers },
    scraped: { rss: scraped.rss, heapUsed: scraped.heapUsed, arrayBuffers: scraped.arrayBuffers },
    full: { rss: full.rss, heapUsed: full.heapUsed, arrayBuffers: full.arrayBuffers },
  }) + '\n',
);
process.exit(0);
