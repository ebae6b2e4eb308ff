/** decode-filter, prefill-filter, encode-filter, by-label, label-selector-filter (+ by-label-selector): table-driven. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Filter } from '../../src/framework/scheduling.js';
import type { PluginRegistration } from '../../src/framework/plugin.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { ConfigError } from '../../src/errors.js';
import { registration as decode } from '../../src/plugins/decode-filter/index.js';
import { registration as prefill } from '../../src/plugins/prefill-filter/index.js';
import { registration as encode } from '../../src/plugins/encode-filter/index.js';
import { registration as byLabel } from '../../src/plugins/by-label-filter/index.js';
import { registration as selector, legacyRegistration as byLabelSelector } from '../../src/plugins/label-selector-filter/index.js';
import { ROLE_LABEL } from '../../src/plugins/shared/disagg.js';
import { makeEndpoint, makeRequest, testHandle } from '../helpers/fixtures.js';

const make = (r: PluginRegistration, params?: unknown) => r.factory(r.type, params, testHandle()) as Filter;
const roles = [undefined, 'decode', 'prefill', 'encode', 'both', 'prefill-decode', 'encode-prefill', 'encode-prefill-decode', 'other'];
const pods = roles.map((r, i) => makeEndpoint({ name: r ?? 'none', labels: r === undefined ? { zone: 'a' } : { [ROLE_LABEL]: r, zone: i % 2 ? 'a' : 'b', gpu: `h${i}` } }));
const kept = (f: Filter) => f.filter(new MapCycleState(), makeRequest(), pods).map((e) => e.metadata.name);

test('role and label filters', () => {
  const cases: { name: string; filter: Filter; want: string[] }[] = [
    { name: 'decode-filter: decoders and unlabelled pods', filter: make(decode), want: ['none', 'decode', 'both', 'prefill-decode', 'encode-prefill-decode'] },
    { name: 'prefill-filter: prefillers, not unlabelled', filter: make(prefill), want: ['prefill', 'both', 'prefill-decode', 'encode-prefill', 'encode-prefill-decode'] },
    { name: 'encode-filter', filter: make(encode), want: ['encode', 'encode-prefill', 'encode-prefill-decode'] },
    { name: 'by-label: values', filter: make(byLabel, { label: ROLE_LABEL, validValues: ['other', 'decode'] }), want: ['decode', 'other'] },
    { name: 'by-label: allowsNoLabel', filter: make(byLabel, { label: ROLE_LABEL, validValues: ['other'], allowsNoLabel: true }), want: ['none', 'other'] },
    { name: 'selector: matchLabels', filter: make(selector, { matchLabels: { zone: 'b', [ROLE_LABEL]: 'both' } }), want: ['both'] },
    { name: 'selector: In', filter: make(selector, { matchExpressions: [{ key: ROLE_LABEL, operator: 'In', values: ['encode', 'prefill'] }] }), want: ['prefill', 'encode'] },
    { name: 'selector: NotIn keeps pods without the label', filter: make(selector, { matchExpressions: [{ key: ROLE_LABEL, operator: 'NotIn', values: ['decode', 'prefill', 'encode', 'both', 'prefill-decode', 'encode-prefill', 'encode-prefill-decode'] }] }), want: ['none', 'other'] },
    { name: 'selector: Exists', filter: make(selector, { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }), want: roles.slice(1).map(String) },
    { name: 'selector: DoesNotExist', filter: make(selector, { matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }), want: ['none'] },
    { name: 'selector: empty matches all', filter: make(selector, {}), want: pods.map((p) => p.metadata.name) },
    { name: 'by-label-selector (old name) behaves the same', filter: make(byLabelSelector, { matchLabels: { zone: 'b' } }), want: ['prefill', 'both', 'encode-prefill', 'other'] },
  ];
  for (const c of cases) assert.deepEqual(kept(c.filter), c.want, c.name);
});

test('bad selector and by-label parameters name the culprit', () => {
  const cases: [PluginRegistration, unknown, string][] = [
    [selector, { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }, 'parameters.matchExpressions[0].operator'],
    [selector, { matchExpressions: [{ key: 'a', operator: 'In' }] }, 'parameters.matchExpressions[0].values'],
    [selector, { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, 'parameters.matchExpressions[0].values'],
    [selector, { matchLabels: { a: 1 } }, 'parameters.matchLabels.a'],
    [byLabel, { validValues: ['x'] }, 'parameters.label'],
    [byLabel, { label: 'x' }, 'parameters'],
  ];
  for (const [r, params, path] of cases) {
    assert.throws(() => make(r, params), (e: unknown) => e instanceof ConfigError && e.path === path, `${JSON.stringify(params)}`);
  }
});

test('role filters take no parameters', () => {
  for (const r of [decode, prefill, encode]) assert.equal(r.takesNoParameters, true, r.type);
});

test('the llm-d disaggregation and label plugins are registered in-tree', async () => {
  const { Registry } = await import('../../src/framework/registry.js');
  const { registerInTreePlugins } = await import('../../src/plugins/index.js');
  const types = registerInTreePlugins(new Registry()).types();
  for (const t of ['disagg-profile-handler', 'pd-profile-handler', 'disagg-headers-handler', 'prefill-header-handler', 'prefix-based-pd-decider', 'always-disagg-pd-decider', 'always-disagg-multimodal-decider', 'decode-filter', 'prefill-filter', 'encode-filter', 'by-label', 'label-selector-filter', 'by-label-selector', 'load-aware-scorer', 'active-request-scorer', 'inflight-load-producer', 'session-affinity-scorer', 'no-hit-lru-scorer', 'prefix-cache-affinity-filter', 'low-queue-filter', 'lora-affinity-filter', 'least-queue-filter', 'least-kv-cache-filter', 'decision-tree-filter', 'concurrency-detector']) {
    assert.ok(types.includes(t), t);
  }
});
