import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../src/framework/registry.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';
import { loadConfig, type LoadedConfig } from '../../src/config/loader.js';
import { ConfigError } from '../../src/errors.js';
import { testServices } from '../helpers/fixtures.js';

function registry(): Registry {
  return registerInTreePlugins(new Registry());
}

function load(configText?: string, warnings: string[] = []): LoadedConfig {
  return loadConfig({ configText }, registry(), testServices(), { warn: (m) => warnings.push(m) });
}

const summary = (c: LoadedConfig) => ({
  handler: c.scheduler.profileHandler.name,
  profiles: c.scheduler.profiles.map((p) => ({
    name: p.name,
    filters: p.filters.map((f) => f.name),
    scorers: p.scorers.map((s) => [s.scorer.name, s.weight]),
    picker: p.picker.name,
  })),
  producers: c.producers.map((p) => p.name),
});

test('no config is the Go EPP default: queue 2, kv 2, prefix 3, with picker, handler and producer added', () => {
  const c = load();
  assert.deepEqual(summary(c), {
    handler: 'single-profile-handler',
    profiles: [{ name: 'default', filters: [], scorers: [['queue-scorer', 2], ['kv-cache-utilization-scorer', 2], ['prefix-cache-scorer', 3]], picker: 'max-score-picker' }],
    producers: ['approx-prefix-cache-producer'],
  });
  assert.deepEqual(c.preRequests.map((p) => p.name), ['approx-prefix-cache-producer']);
  assert.deepEqual(c.endpointListeners.map((p) => p.name), ['approx-prefix-cache-producer']);
});

test('only a prefix-cache-scorer at weight 50: defaults fill in the rest', () => {
  const c = load(`
plugins:
- type: prefix-cache-scorer
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: prefix-cache-scorer
    weight: 50
`);
  assert.deepEqual(summary(c), {
    handler: 'single-profile-handler',
    profiles: [{ name: 'default', filters: [], scorers: [['prefix-cache-scorer', 50]], picker: 'max-score-picker' }],
    producers: ['approx-prefix-cache-producer'],
  });
});

test('a fuller config using every section loads, with both API groups and without apiVersion/kind', () => {
  const body = `
featureGates: [flowControl, "dataLayer=false"]
plugins:
- name: prefix
  type: approx-prefix-cache-producer
  parameters: {blockSizeTokens: 32, lruCapacityPerServer: 1000, maxPrefixTokensToMatch: 8192}
- type: prefix-cache-scorer
- type: queue-scorer
- name: kv
  type: kv-cache-scorer
- type: lora-affinity-scorer
- type: token-load-scorer
  parameters: {queueThresholdTokens: 100000}
- name: picker
  type: weighted-random-picker
  parameters: {maxNumOfEndpoints: 2}
- type: single-profile-handler
- type: file-discovery
  parameters: {path: /etc/epp/endpoints.yaml, watchFile: true}
- type: metrics-data-source
  parameters: {scheme: https, path: /stats, insecureSkipVerify: true}
- type: core-metrics-extractor
  parameters:
    engineLabelKey: llm-d.ai/engine-type
    engineConfigs:
    - {name: my-engine, queuedRequestsSpec: 'q{state=waiting}', runningRequestsSpec: r, kvUsageSpec: kv}
- type: openai-parser
- type: utilization-detector
schedulingProfiles:
- name: default
  plugins:
  - {pluginRef: prefix-cache-scorer, weight: 3}
  - {pluginRef: queue-scorer, weight: 2.5}
  - {pluginRef: kv}
  - {pluginRef: lora-affinity-scorer}
  - {pluginRef: token-load-scorer}
  - {pluginRef: picker}
saturationDetector: {queueDepthThreshold: 5, kvCacheUtilThreshold: 0.8, metricsStalenessThreshold: 200ms}
dataLayer:
  injectDefaults: false
  sources:
  - pluginRef: metrics-data-source
    extractors: [{pluginRef: core-metrics-extractor}]
  discovery: {pluginRef: file-discovery}
flowControl:
  maxBytes: 1Gi
  maxRequests: 1k
  defaultRequestTTL: 30s
  priorityBands:
  - {priority: 0, maxRequests: 100}
  - {priority: -1, maxBytes: 10M, orderingPolicyRef: fcfs-ordering-policy}
  saturationDetector: {pluginRef: utilization-detector}
parser: {pluginRef: openai-parser}
requestHandler: {parsers: [{pluginRef: openai-parser}]}
`;
  for (const header of ['apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n', 'apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\n', '']) {
    const c = load(header + body);
    assert.deepEqual(summary(c), {
      handler: 'single-profile-handler',
      profiles: [
        {
          name: 'default',
          filters: [],
          scorers: [['prefix-cache-scorer', 3], ['queue-scorer', 2.5], ['kv', 1], ['lora-affinity-scorer', 1], ['token-load-scorer', 1]],
          picker: 'picker',
        },
      ],
      producers: ['prefix'],
    });
    assert.deepEqual([...c.featureGates], [['flowControl', true], ['dataLayer', false]]);
    assert.equal(c.raw.dataLayer?.discovery?.pluginRef, 'file-discovery');
    assert.equal(c.plugins.size, 13, 'no default plugin was added: the configured producer serves the scorer');
  }
});

test('no profiles: one "default" profile with every filter, scorer and picker', () => {
  const c = load(`
plugins:
- type: queue-scorer
- type: random-picker
- type: approx-prefix-cache-producer
`);
  assert.deepEqual(summary(c).profiles, [{ name: 'default', filters: [], scorers: [['queue-scorer', 1]], picker: 'random-picker' }]);
});

test('a plugin referenced by two profiles is one instance', () => {
  const c = load(`
plugins:
- type: queue-scorer
- {name: h, type: single-profile-handler}
schedulingProfiles:
- name: a
  plugins: [{pluginRef: queue-scorer}]
`);
  assert.equal(c.scheduler.profiles[0]!.scorers[0]!.scorer, c.plugins.get('queue-scorer'));
});

test('parameters on a plugin that takes none: a warning naming it, not an error', () => {
  const warnings: string[] = [];
  load('plugins:\n- type: queue-scorer\n  parameters: {threshold: 3}\n', warnings);
  assert.deepEqual(warnings, ['--config-text:3: plugin "queue-scorer" (queue-scorer) takes no parameters; the given parameters are ignored']);
});

test('bad configs fail at start-up with the path and the culprit', () => {
  const cases: { name: string; text: string; message: string }[] = [
    { name: 'unknown type', text: 'plugins:\n- type: queue-scorer\n- type: no-such-scorer\n', message: `--config-text:3: plugins[1].type: unknown plugin type "no-such-scorer" (known types: ${registry().types().join(', ')})` },
    { name: 'duplicate name', text: 'plugins:\n- type: queue-scorer\n- {name: queue-scorer, type: kv-cache-scorer}\n', message: '--config-text:3: plugins[1].name: duplicate plugin name "queue-scorer" (also plugins[0])' },
    {
      name: 'missing ref',
      text: 'plugins:\n- type: queue-scorer\nschedulingProfiles:\n- name: default\n  plugins:\n  - pluginRef: queue-scorer\n  - pluginRef: foo\n',
      message: '--config-text:7: schedulingProfiles[0].plugins[1].pluginRef: no plugin named "foo"',
    },
    {
      name: 'two pickers',
      text: 'plugins:\n- type: max-score-picker\n- type: random-picker\nschedulingProfiles:\n- name: p\n  plugins: [{pluginRef: max-score-picker}, {pluginRef: random-picker}]\n',
      message: '--config-text:5: schedulingProfiles[0]: profile "p" has more than one picker ("max-score-picker" and "random-picker")',
    },
    {
      name: 'single handler with two profiles',
      text: 'plugins:\n- type: queue-scorer\n- type: single-profile-handler\nschedulingProfiles:\n- {name: a, plugins: [{pluginRef: queue-scorer}]}\n- {name: b, plugins: [{pluginRef: queue-scorer}]}\n',
      message: '--config-text:4: schedulingProfiles: single-profile-handler "single-profile-handler" serves one profile, but 2 are configured',
    },
    {
      name: 'two profiles and no handler',
      text: 'plugins:\n- type: queue-scorer\nschedulingProfiles:\n- {name: a, plugins: [{pluginRef: queue-scorer}]}\n- {name: b, plugins: [{pluginRef: queue-scorer}]}\n',
      message: '--config-text:1: plugins: 2 scheduling profiles need a profile handler plugin; none is configured',
    },
    { name: 'unknown top-level key', text: 'plugins: []\nschedulingProfile: []\n', message: '--config-text:2: schedulingProfile: unknown field (did you mean "schedulingProfiles"?)' },
    {
      name: 'unknown nested key',
      text: 'plugins:\n- type: queue-scorer\nschedulingProfiles:\n- name: default\n  plugins:\n  - {pluginRef: queue-scorer, wieght: 2}\n',
      message: '--config-text:6: schedulingProfiles[0].plugins[0].wieght: unknown field (did you mean "weight"?)',
    },
    { name: 'weight not a number', text: 'plugins:\n- type: queue-scorer\nschedulingProfiles:\n- name: d\n  plugins:\n  - {pluginRef: queue-scorer, weight: heavy}\n', message: '--config-text:6: schedulingProfiles[0].plugins[0].weight: Invalid input: expected number, received string' },
    { name: 'type missing', text: 'plugins:\n- name: x\n', message: '--config-text:2: plugins[0].type: required field is missing' },
    { name: 'duplicate profile', text: 'plugins: [{type: queue-scorer}, {type: random-picker}]\nschedulingProfiles:\n- {name: a}\n- {name: a}\n', message: '--config-text:4: schedulingProfiles[1].name: duplicate profile name "a" (also schedulingProfiles[0])' },
    { name: 'not a filter, scorer or picker', text: 'plugins:\n- type: single-profile-handler\nschedulingProfiles:\n- name: a\n  plugins: [{pluginRef: single-profile-handler}]\n', message: '--config-text:5: schedulingProfiles[0].plugins[0].pluginRef: plugin "single-profile-handler" (single-profile-handler) is not a filter, scorer or picker' },
    { name: 'unknown feature gate', text: 'featureGates: [warpDrive]\nplugins: []\n', message: '--config-text:1: featureGates[0]: unknown feature gate "warpDrive" (known: flowControl, dataLayer, prepareDataPlugins)' },
    { name: 'bad plugin parameter', text: 'plugins:\n- type: max-score-picker\n  parameters: {maxNumOfEndpoints: 0}\n', message: '--config-text:3: plugins[0].parameters.maxNumOfEndpoints: plugin "max-score-picker" (max-score-picker): must be a positive integer, got 0' },
    { name: 'bad duration', text: 'plugins: []\nsaturationDetector: {metricsStalenessThreshold: soon}\n', message: '--config-text:2: saturationDetector.metricsStalenessThreshold: invalid duration "soon" (want e.g. 50ms, 2s, 1m30s)' },
    { name: 'dangling parser ref', text: 'plugins: []\nparser: {pluginRef: my-parser}\n', message: '--config-text:2: parser.pluginRef: no plugin named "my-parser"' },
    { name: 'dangling discovery ref', text: 'plugins: []\ndataLayer: {discovery: {pluginRef: k8s}}\n', message: '--config-text:2: dataLayer.discovery.pluginRef: no plugin named "k8s"' },
    { name: 'unknown apiVersion', text: 'apiVersion: v9\nplugins: []\n', message: '--config-text:1: apiVersion: Invalid option: expected one of "inference.networking.x-k8s.io/v1alpha1"|"llm-d.ai/v1alpha1"' },
    { name: 'bad YAML', text: 'plugins:\n  - type: [queue-scorer\n', message: '--config-text:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]' },
    { name: 'empty document', text: '# nothing\n', message: '--config-text: empty config' },
    { name: 'not a mapping', text: '- a\n- b\n', message: '--config-text: the config must be a mapping (an EndpointPickerConfig object)' },
  ];
  for (const c of cases) {
    assert.throws(
      () => load(c.text),
      (e: unknown) => e instanceof ConfigError && e.message === c.message,
      c.name,
    );
  }
});

test('--config-file: loads a file; an unreadable one and both sources are errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'epp-config-'));
  const file = join(dir, 'epp.yaml');
  writeFileSync(file, 'plugins:\n- type: kv-cache-utilization-scorer\n');
  const c = loadConfig({ configFile: file }, registry(), testServices(), { warn: () => {} });
  assert.deepEqual(summary(c).profiles[0]!.scorers, [['kv-cache-utilization-scorer', 1]]);
  assert.throws(
    () => loadConfig({ configFile: join(dir, 'missing.yaml') }, registry(), testServices(), { warn: () => {} }),
    (e: unknown) => e instanceof ConfigError && e.message === `--config-file: cannot read "${join(dir, 'missing.yaml')}": ENOENT`,
  );
  assert.throws(
    () => loadConfig({ configFile: file, configText: 'plugins: []' }, registry(), testServices(), { warn: () => {} }),
    (e: unknown) => e instanceof ConfigError && /only one of --config-file and --config-text/.test(e.message),
  );
});

test('a misspelled plugin type names the close matches; every unknown key is reported with its line and the closest known key', () => {
  assert.throws(
    () => load('plugins:\n- type: queue-scorr\n'),
    (e: unknown) => e instanceof ConfigError && e.message === '--config-text:2: plugins[0].type: unknown plugin type "queue-scorr" (did you mean "queue-scorer"?)',
  );
  assert.throws(
    () => load('plugins:\n- type: queue-scorer\n  paramters: {}\nschedulingProfile:\n- name: a\nsaturationDetector: {queueDepthTreshold: 3}\n'),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message ===
        '--config-text:3: plugins[0].paramters: unknown field (did you mean "parameters"?)\n' +
          '  --config-text:4: schedulingProfile: unknown field (did you mean "schedulingProfiles"?)\n' +
          '  --config-text:6: saturationDetector.queueDepthTreshold: unknown field (did you mean "queueDepthThreshold"?)',
  );
});

test('plugin parameters: a misspelled key is a warning naming the plugin, the key, the closest known one and the line; a wrong type is an error naming plugin and key', () => {
  const warnings: string[] = [];
  const c = load('plugins:\n- name: prefix\n  type: approx-prefix-cache-producer\n  parameters:\n    blockSizeTokens: 32\n    lruCapacityPerSrver: 10\n    frobnicate: true\n', warnings);
  assert.deepEqual(warnings, [
    '--config-text:6: plugin "prefix" (approx-prefix-cache-producer): unknown parameter "lruCapacityPerSrver" (did you mean "lruCapacityPerServer"?); ignored',
    '--config-text:7: plugin "prefix" (approx-prefix-cache-producer): unknown parameter "frobnicate" (known: autoTune, blockSizeTokens, blockSize, maxPrefixBlocksToMatch, maxPrefixTokensToMatch, lruCapacityPerServer); ignored',
  ]);
  assert.equal((c.plugins.get('prefix') as unknown as { config: { blockSizeTokens: number } }).config.blockSizeTokens, 32);
  const legacy: string[] = [];
  load('plugins:\n- type: prefix-cache-scorer\n  parameters: {hashBlokSize: 64}\n', legacy);
  assert.deepEqual(legacy, ['--config-text:3: plugin "prefix-cache-scorer" (prefix-cache-scorer): unknown parameter "hashBlokSize" (did you mean "hashBlockSize"?); ignored']);
  assert.throws(
    () => load('plugins:\n- type: file-discovery\n  parameters:\n    path: /x\n    watchFile: "yes"\n'),
    (e: unknown) => e instanceof ConfigError && e.message === '--config-text:5: plugins[0].parameters.watchFile: plugin "file-discovery" (file-discovery): must be true or false, got "yes"',
  );
});

test('every in-tree plugin declares its parameters (a schema, or none), so misspellings are caught everywhere', () => {
  const r = registry();
  for (const type of r.types()) {
    const reg = r.get(type)!;
    assert.ok(reg.takesNoParameters || reg.parameters, `${type} declares no parameter schema`);
  }
});
