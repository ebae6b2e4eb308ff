/** precise-prefix-cache-producer: llm-d's parameters and defaults, bad values, llm-d's sample configs unmodified, produce and speculate. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preciseSettings } from '../../src/plugins/precise-prefix-cache-producer/params.js';
import { PrecisePrefixCacheProducer } from '../../src/plugins/precise-prefix-cache-producer/index.js';
import { PREFIX_CACHE_MATCH_KEY, type PrefixMatchInfo } from '../../src/plugins/approx-prefix-cache-producer/index.js';
import { ConfigError } from '../../src/errors.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { cycleFromConfig } from '../helpers/config-cycle.js';
import { makeEndpoint, makeRequest } from '../helpers/fixtures.js';

test('settings: llm-d defaults, then each parameter', () => {
  const d = preciseSettings(undefined, () => {});
  assert.deepEqual(d, {
    blockSize: 16, hashSeed: '', size: 100_000_000, podCacheSize: 10, tierWeights: { gpu: 1, cpu: 0.8 }, zmqEndpoint: '', topicFilter: 'kv@',
    engineType: 'vllm', discoverPods: true, socketPort: 5557, replaySocketPort: 0, speculativeIndexing: false, speculativeTtlMs: 2000,
  });
  const cases: { params: unknown; field: keyof typeof d; want: unknown }[] = [
    { params: { tokenProcessorConfig: { blockSize: 64 } }, field: 'blockSize', want: 64 },
    { params: { tokenProcessorConfig: { blockSizeTokens: 32, blockSize: 64 } }, field: 'blockSize', want: 32 },
    { params: { tokenProcessorConfig: { hashSeed: '42' } }, field: 'hashSeed', want: '42' },
    { params: { indexerConfig: { kvCacheBackendConfigs: [{ name: 'GPU', weight: 1 }, { name: 'storage', weight: 0.5 }] } }, field: 'tierWeights', want: { gpu: 1, storage: 0.5 } },
    { params: { indexerConfig: { kvBlockIndexConfig: { inMemoryConfig: { size: 5000, podCacheSize: 4 } } } }, field: 'podCacheSize', want: 4 },
    { params: { kvEventsConfig: { zmqEndpoint: 'tcp://0.0.0.0:5557' } }, field: 'zmqEndpoint', want: 'tcp://0.0.0.0:5557' },
    { params: { kvEventsConfig: { engineType: 'sglang' } }, field: 'engineType', want: 'sglang' },
    { params: { kvEventsConfig: { podDiscoveryConfig: { socketPort: 6000 } } }, field: 'socketPort', want: 6000 },
    { params: { speculativeIndexing: true, speculativeTTL: '500ms' }, field: 'speculativeTtlMs', want: 500 },
    { params: { speculativeTTL: '0s' }, field: 'speculativeTtlMs', want: 2000 },
  ];
  for (const c of cases) assert.deepEqual(preciseSettings(c.params, () => {})[c.field], c.want, JSON.stringify(c.params));
});

test('settings: bad values are ConfigErrors naming the parameter; unsupported backends warn', () => {
  const bad: { params: unknown; message: RegExp }[] = [
    { params: { tokenProcessorConfig: { hashAlgorithm: 'md5' } }, message: /^parameters\.tokenProcessorConfig\.hashAlgorithm: unknown hash algorithm "md5"/ },
    { params: { tokenProcessorConfig: { blockSizeTokens: -4 } }, message: /^parameters\.tokenProcessorConfig\.blockSizeTokens: must be positive, got -4/ },
    { params: { indexerConfig: { tokenizersPoolConfig: { workersCount: 8 } } }, message: /^parameters\.indexerConfig\.tokenizersPoolConfig: is not supported/ },
    { params: { kvEventsConfig: { engineType: 'trtllm' } }, message: /^parameters\.kvEventsConfig\.engineType: unknown engine type "trtllm"/ },
    { params: { speculativeTTL: 'soon' }, message: /^parameters\.speculativeTTL/ },
    { params: { kvEventsConfig: { podDiscoveryConfig: { socketPort: 'x' } } }, message: /^parameters\.kvEventsConfig\.podDiscoveryConfig\.socketPort: must be an integer/ },
  ];
  for (const c of bad) assert.throws(() => preciseSettings(c.params, () => {}), (e: unknown) => e instanceof ConfigError && c.message.test(e.message), JSON.stringify(c.params));
  const warnings: string[] = [];
  preciseSettings({ indexerConfig: { kvBlockIndexConfig: { redisConfig: { address: 'redis://x' } } } }, (m) => warnings.push(m));
  assert.match(warnings[0]!, /Redis and cost-aware backends are not available here/);
});

const LLMD_SAMPLE = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: token-producer
    parameters:
      modelName: hf-repo/model-name
      vllm:
        url: http://localhost:8000
  - type: endpoint-notification-source
  - type: metrics-data-source
  - type: core-metrics-extractor
  - type: single-profile-handler
  - type: decode-filter
  - type: precise-prefix-cache-producer
    parameters:
      tokenProcessorConfig:
        blockSize: 64
      indexerConfig:
        kvBlockIndexConfig:
          enableMetrics: true
  - type: prefix-cache-scorer
    parameters:
      prefixMatchInfoProducerName: precise-prefix-cache-producer
  - type: kv-cache-utilization-scorer
  - type: queue-scorer
  - type: max-score-picker
dataLayer:
  sources:
    - pluginRef: metrics-data-source
      extractors:
        - pluginRef: core-metrics-extractor
    - pluginRef: endpoint-notification-source
      extractors:
        - pluginRef: precise-prefix-cache-producer
schedulingProfiles:
  - name: default
    plugins:
      - pluginRef: decode-filter
      - pluginRef: prefix-cache-scorer
        weight: 2.0
      - pluginRef: kv-cache-utilization-scorer
        weight: 1.0
      - pluginRef: queue-scorer
        weight: 1.0
      - pluginRef: max-score-picker
`;

test("llm-d's epp-precise-prefix-cache-config.yaml loads unmodified, with no warning; the precise producer feeds the scorer", () => {
  const { config, warnings } = cycleFromConfig(LLMD_SAMPLE);
  const producer = config.plugins.get('precise-prefix-cache-producer') as PrecisePrefixCacheProducer;
  try {
    assert.deepEqual(warnings, []);
    assert.ok(producer instanceof PrecisePrefixCacheProducer);
    assert.equal(producer.settings.blockSize, 64);
    assert.deepEqual(config.producers.map((p) => p.type), ['token-producer', 'precise-prefix-cache-producer'], 'no approximate producer injected');
  } finally {
    producer.close();
  }
});

test('produce: the longest cached prefix per candidate, weighted and truncated; speculative entries at PreRequest', () => {
  const t = { now: 0 };
  const settings = { ...preciseSettings({ tokenProcessorConfig: { blockSizeTokens: 2 }, speculativeIndexing: true, speculativeTTL: '1s' }, () => {}), discoverPods: false };
  const p = new PrecisePrefixCacheProducer('precise', settings, () => {}, () => t.now);
  const [a, b] = [makeEndpoint({ name: 'a' }), makeEndpoint({ name: 'b' })];
  const tokens = Uint32Array.from([1, 2, 3, 4, 5, 6, 7]);
  const request = (id: string) => ({ ...makeRequest({ requestId: id, model: 'm' }), tokenizedPrompt: { prompts: [{ tokenIds: tokens }], cacheSalt: '', exact: true } });
  const { keys } = p.keyer.chain('m', tokens);
  p.index.stored(a!.hostPort, [1, 2], keys.slice(0, 2), 'gpu');
  p.index.stored(b!.hostPort, [9], keys.slice(0, 1), 'cpu');
  const cs = new MapCycleState();
  p.produce(request('r1'), [a!, b!], cs);
  const info = cs.read<PrefixMatchInfo>(PREFIX_CACHE_MATCH_KEY)!;
  assert.equal(info.totalBlocks, 3, 'three full blocks of 2 tokens');
  assert.deepEqual([...info.matched], [2, 0], 'b: one CPU block weighs 0.8, truncated to 0 (llm-d)');

  // PreRequest on b: the request's blocks count there for the TTL.
  p.preRequest(request('r1'), { primaryProfileName: 'default', profileResults: new Map([['default', { targetEndpoints: [{ endpoint: b!, score: 1 }] }]]) });
  const again = new MapCycleState();
  p.produce(request('r2'), [a!, b!], again);
  assert.deepEqual([...again.read<PrefixMatchInfo>(PREFIX_CACHE_MATCH_KEY)!.matched], [2, 3]);
  t.now = 1001;
  const later = new MapCycleState();
  p.produce(request('r3'), [a!, b!], later);
  assert.deepEqual([...later.read<PrefixMatchInfo>(PREFIX_CACHE_MATCH_KEY)!.matched], [2, 0], 'the guess expired');

  const none = new MapCycleState();
  p.produce(makeRequest({ model: 'm' }), [a!, b!], none);
  assert.equal(none.read(PREFIX_CACHE_MATCH_KEY), undefined, 'no tokens: nothing written');
  p.close();
});

test('produce: a long prompt is keyed on a worker thread, with the same keys as inline', async () => {
  const { WorkerPool } = await import('../../src/pool/worker-pool.js');
  const pool = new WorkerPool();
  pool.start(1);
  const settings = { ...preciseSettings(undefined, () => {}), discoverPods: false };
  const p = new PrecisePrefixCacheProducer('precise', settings, () => {}, Date.now, pool);
  try {
    const tokens = Uint32Array.from({ length: 9000 }, (_, i) => (i * 31) % 150_000);
    const a = makeEndpoint({ name: 'a' });
    const { keys } = p.keyer.chain('m', tokens);
    p.index.stored(a.hostPort, [], keys.slice(0, 100), 'gpu');
    const cs = new MapCycleState();
    const before = pool.stats.worker;
    const pending = p.produce({ ...makeRequest({ model: 'm' }), tokenizedPrompt: { prompts: [{ tokenIds: tokens }], cacheSalt: '', exact: true } }, [a], cs);
    assert.ok(pending instanceof Promise, 'asynchronous: the keys come from the pool');
    await pending;
    assert.equal(pool.stats.worker, before + 1, 'one task ran on the worker');
    const info = cs.read<PrefixMatchInfo>(PREFIX_CACHE_MATCH_KEY)!;
    assert.equal(info.totalBlocks, 562);
    assert.deepEqual([...info.matched], [100]);
  } finally {
    p.close();
    await pool.close();
  }
});
