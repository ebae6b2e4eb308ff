/** The `flowControl:` section: gate, defaults, templates, refs and errors, as llm-d's loader does them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/framework/registry.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';
import { loadConfig } from '../../src/config/loader.js';
import { buildFlowControlSettings } from '../../src/flowcontrol/config.js';
import { parseQuantity } from '../../src/flowcontrol/quantity.js';
import { ConfigError } from '../../src/errors.js';
import { testServices } from '../helpers/fixtures.js';

function build(text: string, warnings: string[] = []) {
  const registry = registerInTreePlugins(new Registry());
  const log = { warn: (m: string) => warnings.push(m) };
  const config = loadConfig({ configText: text }, registry, testServices(), log);
  return buildFlowControlSettings(config, registry, testServices(), log);
}

const bandSummary = (s: NonNullable<ReturnType<typeof build>>) => s.bands.map((b) => [b.priority, b.maxRequests, b.maxBytes, b.ordering.name, b.fairness.name]);

test('gate off: the section is ignored with a warning and the legacy path runs (no settings)', () => {
  const warnings: string[] = [];
  assert.equal(build('plugins: []\nflowControl:\n  maxRequests: 10\n', warnings), undefined);
  assert.deepEqual(warnings, ['the flowControl config section is set but the flowControl feature gate is disabled; its settings (other than saturationDetector) are ignored']);
  const quiet: string[] = [];
  assert.equal(build('plugins: []\nflowControl:\n  saturationDetector: {pluginRef: utilization-detector}\n', quiet), undefined);
  assert.deepEqual(quiet, [], 'the saturation detector alone is honoured by the legacy path: no warning');
  assert.equal(build('featureGates: ["flowControl=false"]\nplugins: []\n'), undefined);
});

test('gate on with no section: llm-d defaults (band 0, 5000 requests, 1 GB, 60s TTLs, fcfs, global-strict, static 1.0)', () => {
  const s = build('featureGates: [flowControl]\nplugins: []\n')!;
  assert.deepEqual(bandSummary(s), [[0, 5000, 1_000_000_000, 'fcfs-ordering-policy', 'global-strict-fairness-policy']]);
  assert.equal(s.defaultRequestTTLMs, 60_000);
  assert.equal(s.noEndpointRequestTTLMs, 60_000);
  assert.equal(s.maxRequests, 0);
  assert.equal(s.maxBytes, 0);
  assert.equal(s.usageLimit.type, 'static-usage-limit-policy');
  assert.equal(s.enableEviction, false);
});

test('the whole section as llm-d writes it', () => {
  const s = build(`
featureGates: [flowControl]
plugins:
- type: round-robin-fairness-policy
- name: customFCFS
  type: fcfs-ordering-policy
- type: edf-ordering-policy
- type: priority-holdback-policy
  parameters: {minCeiling: 0.5}
flowControl:
  maxBytes: 1Gi
  maxRequests: 1k
  defaultRequestTTL: 1m
  noEndpointRequestTTL: 5m
  usageLimitPolicyPluginRef: priority-holdback-policy
  enableEviction: true
  defaultPriorityBand:
    fairnessPolicyRef: round-robin-fairness-policy
    maxRequests: 50
  defaultNegativePriorityBand:
    maxBytes: "1024"
  priorityBands:
  - {priority: 100, orderingPolicyRef: edf-ordering-policy, maxRequests: 10}
  - {priority: -1, orderingPolicyRef: customFCFS}
`)!;
  assert.deepEqual(bandSummary(s), [
    [100, 10, 1e9, 'edf-ordering-policy', 'global-strict-fairness-policy'],
    [0, 50, 1e9, 'fcfs-ordering-policy', 'round-robin-fairness-policy'],
    [-1, 5000, 1e9, 'customFCFS', 'global-strict-fairness-policy'],
  ]);
  assert.equal(s.maxBytes, 1024 ** 3);
  assert.equal(s.maxRequests, 1000);
  assert.equal(s.defaultRequestTTLMs, 60_000);
  assert.equal(s.noEndpointRequestTTLMs, 300_000);
  assert.equal(s.usageLimit.type, 'priority-holdback-policy');
  assert.equal(s.defaultNegativeBand.maxBytes, 1024);
  assert.equal(s.defaultNegativeBand.fairness.name, 'global-strict-fairness-policy', 'a template falls back to the defaults, not to the other template');
  assert.equal(s.enableEviction, true);
});

test('noEndpointRequestTTL copies defaultRequestTTL when only that is set; 0s means none', () => {
  const s = build('featureGates: [flowControl]\nplugins: []\nflowControl:\n  defaultRequestTTL: 0s\n')!;
  assert.equal(s.defaultRequestTTLMs, 0);
  assert.equal(s.noEndpointRequestTTLMs, 0);
});

test('errors name the field', () => {
  const cases: { name: string; text: string; message: string }[] = [
    { name: 'duplicate priority', text: 'priorityBands: [{priority: 5}, {priority: 5}]', message: 'flowControl.priorityBands[1].priority: duplicate priority level 5 (also flowControl.priorityBands[0])' },
    { name: 'missing ordering ref', text: 'priorityBands: [{priority: 5, orderingPolicyRef: nope}]', message: 'flowControl.priorityBands[0].orderingPolicyRef: no plugin named "nope"' },
    { name: 'wrong kind', text: 'defaultPriorityBand: {fairnessPolicyRef: fcfs-ordering-policy}', message: 'flowControl.defaultPriorityBand.fairnessPolicyRef: plugin "fcfs-ordering-policy" (fcfs-ordering-policy) is not a fairness policy' },
    { name: 'negative quantity', text: 'maxBytes: -1', message: 'flowControl.maxBytes: must be non-negative, got -1' },
    { name: 'bad quantity', text: 'maxRequests: lots', message: 'flowControl.maxRequests: invalid quantity "lots" (want e.g. 1024, 500M, 1Gi)' },
    { name: 'bad duration', text: 'defaultRequestTTL: soon', message: 'flowControl.defaultRequestTTL: invalid duration "soon" (want e.g. 50ms, 2s, 1m30s)' },
    { name: 'unknown key', text: 'maxQueue: 5', message: 'flowControl.maxQueue: unknown field' },
    { name: 'usage limit of the wrong kind', text: 'usageLimitPolicyPluginRef: fcfs-ordering-policy', message: 'flowControl.usageLimitPolicyPluginRef: plugin "fcfs-ordering-policy" (fcfs-ordering-policy) is not a usage limit policy' },
  ];
  for (const c of cases) {
    const text = `featureGates: [flowControl]\nplugins: []\nflowControl:\n  ${c.text}\n`;
    assert.throws(() => build(text), (e: unknown) => e instanceof ConfigError && e.message.includes(c.message), c.name);
  }
});

test('quantities as Kubernetes writes them', () => {
  const cases: [string | number | undefined, number][] = [[undefined, 0], [1024, 1024], ['1024', 1024], ['1Ki', 1024], ['1Gi', 2 ** 30], ['500M', 5e8], ['1k', 1000], ['1e3', 1000], ['1.5Ki', 1536], ['100m', 1], ['0', 0]];
  for (const [input, want] of cases) assert.equal(parseQuantity(input, 'x'), want, String(input));
});
