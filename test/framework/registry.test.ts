import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/framework/registry.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';

test('registerInTreePlugins registers every in-tree type once; a second registration of a type is an error', () => {
  const registry = registerInTreePlugins(new Registry());
  // Every type below is registered (plugins added later are checked by their own tests); none twice.
  const types = registry.types();
  assert.equal(new Set(types).size, types.length);
  const missing = [
    'approx-prefix-cache-producer',
    'core-metrics-extractor',
    'edf-ordering-policy',
    'fcfs-ordering-policy',
    'file-discovery',
    'global-strict-fairness-policy',
    'k8s-discovery',
    'kv-cache-scorer',
    'kv-cache-utilization-scorer',
    'lora-affinity-scorer',
    'max-score-picker',
    'metrics-data-source',
    'openai-parser',
    'passthrough-parser',
    'prefix-cache-scorer',
    'priority-holdback-policy',
    'queue-scorer',
    'random-picker',
    'round-robin-fairness-policy',
    'running-requests-size-scorer',
    'single-profile-handler',
    'slo-deadline-ordering-policy',
    'soft-reflective-ceiling-policy',
    'static-usage-limit-policy',
    'token-load-scorer',
    'token-producer',
    'tokenizer',
    'utilization-detector',
    'weighted-random-picker',
  ].filter((t) => !types.includes(t));
  assert.deepEqual(missing, []);
  assert.equal(registry.defaultProducerFor('prefix-cache-match-info'), 'approx-prefix-cache-producer');
  assert.throws(() => registerInTreePlugins(registry), /plugin type "queue-scorer" is registered twice/);
});
