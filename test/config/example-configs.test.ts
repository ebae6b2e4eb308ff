/** Every examples/configs file loads and routes; configs written for llm-d-router and GIE load unmodified. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { primaryTargets } from '../../src/framework/scheduling.js';
import { ROLE_LABEL } from '../../src/plugins/shared/disagg.js';
import { makeEndpoint, makeRequest, testServices } from '../helpers/fixtures.js';
import { cycleFromConfig, exampleConfig, llmdSample } from '../helpers/config-cycle.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/configs/', import.meta.url));

async function routeOnce(text: string, label: string): Promise<string[]> {
  const { cycle, tracker, warnings, config } = cycleFromConfig(text, testServices(11));
  const roles = ['decode', 'decode', 'prefill', 'prefill', 'encode', 'both'];
  const pods = roles.map((r, i) => makeEndpoint({ name: `${r}-${i}`, address: `10.9.0.${i + 1}`, labels: { [ROLE_LABEL]: r }, updateTime: 1, queue: i, kv: 0.1 * i }, tracker));
  for (let i = 0; i < 3; i++) {
    const out = await cycle.run(makeRequest({ prompt: `document ${'y'.repeat(400)} question ${i}` }), pods); // a tokenizer makes it asynchronous
    const primary = primaryTargets(out.result)[0];
    assert.ok(primary, `${label}: request ${i} routed`);
    tracker.release(out.reservation!);
    for (const r of out.secondary) tracker.release(r);
  }
  assert.equal(tracker.totalInFlight(), 0, `${label}: everything released`);
  for (const p of config.plugins.values()) (p as { close?: () => void }).close?.();
  return warnings;
}

test('every example config loads and routes', async () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(files, ['default.yaml', 'load-aware.yaml', 'pd.yaml', 'precise-prefix.yaml', 'shared-prefix.yaml', 'sticky-until-saturated.yaml', 'unique-prompts.yaml', 'v05-decision-tree.yaml']);
  for (const f of files) assert.deepEqual(await routeOnce(exampleConfig(f), f), [], `${f} loads without warnings`);
});

/**
 * Configs as users bring them (llm-d-router's deploy/config samples, GIE's chart and guides), verbatim in shape;
 * samples copied byte for byte live in test/fixtures/llm-d/.
 */
const FOREIGN: Record<string, string> = {
  'llm-d dp-epp-config (data-parallel-profile-handler)': llmdSample('dp-epp-config.yaml'),
  'llm-d probabilistic-admitter-epp-config': llmdSample('probabilistic-admitter-epp-config.yaml'),
  'llm-d epp-config (decode-filter + prefix)': `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: prefix-cache-scorer
- type: decode-filter
- type: max-score-picker
- type: single-profile-handler
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: decode-filter
  - pluginRef: max-score-picker
  - pluginRef: prefix-cache-scorer
    weight: 2
`,
  'llm-d P/D with the decider after the handler': `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: approx-prefix-cache-producer
  parameters:
    maxPrefixTokensToMatch: 16384
    lruCapacityPerServer: 31250
- type: prefix-cache-scorer
- type: queue-scorer
- type: prefill-filter
- type: decode-filter
- type: max-score-picker
- type: disagg-profile-handler
  parameters:
    deciders:
      prefill: prefix-based-pd-decider
- type: prefix-based-pd-decider
  parameters:
    nonCachedTokens: 16
schedulingProfiles:
- name: prefill
  plugins:
  - pluginRef: prefill-filter
  - pluginRef: max-score-picker
  - pluginRef: prefix-cache-scorer
    weight: 2
  - pluginRef: queue-scorer
    weight: 1
- name: decode
  plugins:
  - pluginRef: decode-filter
  - pluginRef: max-score-picker
  - pluginRef: prefix-cache-scorer
    weight: 2
  - pluginRef: queue-scorer
    weight: 1
`,
  'llm-d E/P/D (sim)': `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: encode-filter
- type: prefill-filter
- type: decode-filter
- type: disagg-profile-handler
  parameters:
    deciders:
      encode: always-disagg-multimodal-decider
      prefill: prefix-based-pd-decider
- type: always-disagg-multimodal-decider
- type: prefix-based-pd-decider
  parameters:
    nonCachedTokens: 16
schedulingProfiles:
- name: encode
  plugins:
  - pluginRef: encode-filter
- name: prefill
  plugins:
  - pluginRef: prefill-filter
  - pluginRef: queue-scorer
    weight: 1
- name: decode
  plugins:
  - pluginRef: decode-filter
  - pluginRef: queue-scorer
    weight: 1
`,
  'llm-d E/PD (sim)': `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: encode-filter
- type: decode-filter
- type: max-score-picker
- type: always-disagg-multimodal-decider
- type: disagg-profile-handler
  parameters:
    deciders:
      encode: always-disagg-multimodal-decider
schedulingProfiles:
- name: encode
  plugins:
  - pluginRef: encode-filter
- name: decode
  plugins:
  - pluginRef: decode-filter
`,
  'older llm-d P/D (pd-profile-handler, prefill-header-handler, by-label)': `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: prefill-header-handler
- type: prefix-cache-scorer
  parameters:
    hashBlockSize: 5
    maxPrefixBlocksToMatch: 256
    lruCapacityPerServer: 31250
- type: prefill-filter
- type: decode-filter
- type: by-label
  name: gpu-nodes
  parameters:
    label: llm-d.ai/role
    validValues: [decode, prefill, both, encode]
- type: max-score-picker
- type: prefix-based-pd-decider
  parameters:
    nonCachedTokens: 8
- type: pd-profile-handler
  parameters:
    threshold: 10
    hashBlockSize: 5
    primaryPort: 0
    decodeProfile: decode
    prefillProfile: prefill
schedulingProfiles:
- name: prefill
  plugins:
  - pluginRef: prefill-filter
  - pluginRef: max-score-picker
  - pluginRef: prefix-cache-scorer
    weight: 50
- name: decode
  plugins:
  - pluginRef: gpu-nodes
  - pluginRef: decode-filter
  - pluginRef: max-score-picker
  - pluginRef: prefix-cache-scorer
    weight: 50
`,
  'llm-d no-hit-lru + load-aware + session affinity + active-request': `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: prefix-cache-scorer
- type: no-hit-lru-scorer
  parameters:
    lruSize: 2048
- type: load-aware-scorer
  parameters:
    threshold: 100
- type: session-affinity-scorer
- type: active-request-scorer
  parameters:
    requestTimeout: "2m"
- type: label-selector-filter
  parameters:
    matchExpressions:
    - {key: llm-d.ai/role, operator: In, values: [decode, both]}
- type: decode-filter
- type: max-score-picker
- type: single-profile-handler
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: label-selector-filter
  - pluginRef: decode-filter
  - pluginRef: max-score-picker
  - pluginRef: prefix-cache-scorer
    weight: 2
  - pluginRef: no-hit-lru-scorer
  - pluginRef: load-aware-scorer
  - pluginRef: session-affinity-scorer
    weight: 10
  - pluginRef: active-request-scorer
`,
  'llm-d sim-epp-gpu-config (dcgm source, endpoint-attribute filter and scorer)': llmdSample('sim-epp-gpu-config.yaml'),
  'llm-d core-metrics-extractor customMetrics + endpoint-attribute-scorer (README examples)': `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: core-metrics-extractor
  parameters:
    engineConfigs:
      - name: "my-custom-engine"
        queuedRequestsSpec: "custom_queue_size{status=waiting}"
        runningRequestsSpec: "custom_running_size"
        kvUsageSpec: "custom_cache_utilization"
        customMetrics:
          - attributeKey: "custom.queue_depth"
            metricSpec: "custom_queue_depth{tier=gold}"
- type: endpoint-attribute-scorer
  name: queue-depth-attribute
  parameters:
    attributeKey: "custom.queue_depth"
    algorithm:
      type: "linear_lower_is_better"
- type: endpoint-attribute-filter
  name: drop-loaded-endpoints
  parameters:
    attribute: "num_requests_running"
    onMissing: "Pass"
    fallbackOnEmpty: true
    algorithm:
      type: "threshold"
      threshold:
        operator: "LessThan"
        value: 10
schedulingProfiles:
  - name: default
    plugins:
      - pluginRef: drop-loaded-endpoints
      - pluginRef: queue-depth-attribute
        weight: 1
`,
  'llm-d epp-burst-prefix-cache-config (token-producer → burst-prefix-cache-producer → prefix-cache-scorer)': llmdSample('epp-burst-prefix-cache-config.yaml'),
  'GIE v1 chart default': `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
  - pluginRef: kv-cache-utilization-scorer
  - pluginRef: prefix-cache-scorer
`,
  'GIE v0.5 plugins-v2': `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-scorer
- type: prefix-cache-scorer
  parameters:
    hashBlockSize: 64
    maxPrefixBlocksToMatch: 256
    lruCapacityPerServer: 31250
- type: max-score-picker
  parameters:
    maxNumOfEndpoints: 1
- type: single-profile-handler
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
    weight: 1
  - pluginRef: kv-cache-scorer
    weight: 1
  - pluginRef: prefix-cache-scorer
    weight: 1
`,
  'concurrency detector as filter and saturation detector': `plugins:
- type: concurrency-detector
  parameters: {concurrencyMode: hybrid, maxConcurrency: 64, maxTokenConcurrency: 500000, headroom: 0.2}
- type: utilization-detector
- type: queue-scorer
saturationDetector:
  pluginRef: concurrency-detector
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: concurrency-detector
  - pluginRef: utilization-detector
  - pluginRef: queue-scorer
`,
};

test('configs written for llm-d-router and GIE load unmodified and route', async () => {
  for (const [label, text] of Object.entries(FOREIGN)) {
    const warnings = await routeOnce(text, label);
    if (/dcgm|customMetrics/.test(label)) assert.deepEqual(warnings, [], label);
    if (label.startsWith('older llm-d')) {
      assert.ok(warnings.some((w) => /pd-profile-handler is deprecated/.test(w)), `${label}: ${warnings.join(' | ')}`);
    }
  }
});
