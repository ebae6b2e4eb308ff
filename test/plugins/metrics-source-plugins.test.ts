/** core-metrics-extractor and metrics-data-source: parameters, defaults, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registration as extractorReg, CoreMetricsExtractor } from '../../src/plugins/core-metrics-extractor/index.js';
import { registration as sourceReg, MetricsDataSource } from '../../src/plugins/metrics-data-source/index.js';
import { MetricsExtractor } from '../../src/datalayer/extract.js';
import { ConfigError } from '../../src/errors.js';
import { testHandle } from '../helpers/fixtures.js';

const extractor = (params?: unknown) => extractorReg.factory('x', params, testHandle()) as CoreMetricsExtractor;
const source = (params?: unknown) => sourceReg.factory('s', params, testHandle()) as MetricsDataSource;

test('core-metrics-extractor: defaults, custom engines, a built-in replaced by name', () => {
  const d = extractor();
  assert.deepEqual([d.engineLabelKey, d.defaultEngine, [...d.engines.keys()]], ['inference.networking.k8s.io/engine-type', 'vllm', ['vllm', 'sglang', 'trtllm-serve', 'triton-tensorrt-llm']]);
  const custom = extractor({
    engineLabelKey: 'llm-d.ai/engine-type',
    defaultEngine: 'mine',
    engineConfigs: [
      { name: 'mine', queuedRequestsSpec: 'q{state=waiting}', runningRequestsSpec: 'r', kvUsageSpec: 'kv', cacheBlockSizeSpec: 'bs' },
      { name: 'vllm', queuedRequestsSpec: 'other_waiting', runningRequestsSpec: 'other_running', kvUsageSpec: 'other_kv' },
    ],
  });
  assert.equal(custom.engineLabelKey, 'llm-d.ai/engine-type');
  const page = 'q{state="running"} 9\nq{state="waiting"} 4\nr 2\nkv 0.5\nbs 32\n';
  const got = new MetricsExtractor(custom.engines.get('mine')!).extract(page);
  assert.deepEqual([got.waitingQueueSize, got.runningRequestsSize, got.kvCacheUsage, got.cacheBlockSize, got.problems], [4, 2, 0.5, 32, []]);
  const replaced = new MetricsExtractor(custom.engines.get('vllm')!).extract('other_waiting 1\nother_running 1\nother_kv 0.1\nvllm:num_requests_waiting 7\n');
  assert.equal(replaced.waitingQueueSize, 1, 'the user entry replaced the built-in vllm mapping');
});

test('core-metrics-extractor: bad parameters name their path', () => {
  const cases: [unknown, string][] = [
    [{ engineConfigs: 'vllm' }, 'parameters.engineConfigs'],
    [{ engineConfigs: [42] }, 'parameters.engineConfigs[0]'],
    [{ engineConfigs: [{ name: '' }] }, 'parameters.engineConfigs[0].name'],
    [{ engineConfigs: [{ name: 'e', kvUsageSpec: 3 }] }, 'parameters.engineConfigs[0].kvUsageSpec'],
    [{ engineConfigs: [{ name: 'e', queuedRequestsSpec: 'bad{' }] }, 'parameters.engineConfigs[0].queuedRequestsSpec'],
    [{ engineConfigs: [{ name: 'e' }, { name: 'e' }] }, 'parameters.engineConfigs[1].name'],
    [{ defaultEngine: 'tgi' }, 'parameters.defaultEngine'],
    [{ engineLabelKey: 7 }, 'parameters.engineLabelKey'],
  ];
  for (const [params, path] of cases) assert.throws(() => extractor(params), (e: unknown) => e instanceof ConfigError && e.path === path, path);
});

test('metrics-data-source: defaults and errors', () => {
  const d = source();
  assert.deepEqual([d.scheme, d.path, d.insecureSkipVerify], ['http', '/metrics', false]);
  const s = source({ scheme: 'https', path: '/stats', insecureSkipVerify: true });
  assert.deepEqual([s.scheme, s.path, s.insecureSkipVerify], ['https', '/stats', true]);
  const cases: [unknown, string][] = [
    [{ scheme: 'ftp' }, 'parameters.scheme'],
    [{ path: 'metrics' }, 'parameters.path'],
    [{ insecureSkipVerify: 'yes' }, 'parameters.insecureSkipVerify'],
  ];
  for (const [params, path] of cases) assert.throws(() => source(params), (e: unknown) => e instanceof ConfigError && e.path === path, path);
});
