/** disagg-profile-handler, pd-profile-handler, the deciders and the header handlers: table-driven. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../../src/framework/endpoint.js';
import { HeaderEditList } from '../../src/framework/headers.js';
import type { PluginCounter, PluginMetrics } from '../../src/framework/plugin.js';
import { primaryTargets } from '../../src/framework/scheduling.js';
import { ConfigError, EppError, ErrorCodes } from '../../src/errors.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { ENCODERS_HEADER, PREFILL_HEADER, ROLE_LABEL } from '../../src/plugins/shared/disagg.js';
import { DATA_PARALLEL_HEADER } from '../../src/plugins/pd-profile-handler/index.js';
import { makeEndpoint, makeRequest, testServices } from '../helpers/fixtures.js';
import { cycleFromConfig, exampleConfig } from '../helpers/config-cycle.js';

function countingMetrics(): PluginMetrics & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return {
    counts,
    counter(name: string): PluginCounter {
      return { inc: (values, by = 1) => void counts.set(`${name}${JSON.stringify(values)}`, (counts.get(`${name}${JSON.stringify(values)}`) ?? 0) + by) };
    },
  };
}

const role = (r: string | undefined): Record<string, string> => (r === undefined ? {} : { [ROLE_LABEL]: r });

function pool(tracker: LoadTracker, roles: (string | undefined)[]): Endpoint[] {
  return roles.map((r, i) => makeEndpoint({ name: `${r ?? 'plain'}-${i}`, address: `10.1.0.${i + 1}`, labels: role(r), updateTime: 500 }, tracker));
}

const LONG = 'the same long document, read again and again. '.repeat(40); // ~470 tokens

test('pd.yaml: a new prompt goes decode + prefill; the same prompt again is decode-only (prefix cached)', () => {
  const metrics = countingMetrics();
  const { cycle, tracker } = cycleFromConfig(exampleConfig('pd.yaml'), { ...testServices(1), metrics });
  const pods = pool(tracker, ['decode', 'decode', 'prefill', 'prefill']);
  const first = cycle.runSync(makeRequest({ prompt: LONG }), pods);
  assert.equal(first.result.primaryProfileName, 'decode');
  const decode = primaryTargets(first.result)[0]!.endpoint;
  const prefill = first.result.profileResults.get('prefill')?.targetEndpoints[0]?.endpoint;
  assert.match(decode.metadata.name, /^decode-/);
  assert.ok(prefill && /^prefill-/.test(prefill.metadata.name), 'a prefill pod was picked');
  assert.equal(first.requestHeaders.set.get(PREFILL_HEADER), prefill.hostPort);
  // The prefill pod is reserved too (the sidecar sends it the prompt), separately from the primary.
  assert.equal(prefill.load.inFlightRequests, 1);
  assert.equal(first.secondary.length, 1);
  // The index learned the blocks for the decode pod and the prefill pod: the same prompt now goes decode-only to it.
  const again = cycle.runSync(makeRequest({ prompt: LONG }), pods);
  assert.equal(primaryTargets(again.result)[0]!.endpoint.key, decode.key);
  assert.equal(again.result.profileResults.has('prefill'), false);
  assert.equal(again.requestHeaders.set.has(PREFILL_HEADER), false);
  const key = (d: string) => `llm_d_epp_disagg_decision_total${JSON.stringify(['disagg-profile-handler', 'disagg-profile-handler', 'base-model', d])}`;
  assert.equal(metrics.counts.get(key('prefill-decode')), 1);
  assert.equal(metrics.counts.get(key('decode-only')), 1);
  assert.equal(metrics.counts.get(`llm_d_inference_scheduler_disagg_decision_total${JSON.stringify(['base-model', 'decode-only'])}`), 1);
});

test('prefix-based-pd-decider: nonCachedTokens and promptTokens thresholds', () => {
  const cases: { name: string; params: string; prompt: string; warm?: boolean; prefill: boolean }[] = [
    { name: 'short prompt (< nonCachedTokens) stays decode-only', params: 'nonCachedTokens: 16', prompt: 'hi there', prefill: false },
    { name: 'long uncached prompt disaggregates', params: 'nonCachedTokens: 16', prompt: LONG, prefill: true },
    { name: 'cached on the decode pod → decode-only', params: 'nonCachedTokens: 16', prompt: LONG, warm: true, prefill: false },
    { name: 'nonCachedTokens 0 never disaggregates', params: 'nonCachedTokens: 0', prompt: LONG, prefill: false },
    { name: 'threshold above the prompt → decode-only', params: 'nonCachedTokens: 1000', prompt: LONG, prefill: false },
    { name: 'promptTokens gate', params: '{nonCachedTokens: 16, promptTokens: 1000}', prompt: LONG, prefill: false },
  ];
  for (const c of cases) {
    const text = exampleConfig('pd.yaml').replace('nonCachedTokens: 16', c.params.startsWith('{') ? `${c.params.slice(1, -1).split(', ').join('\n    ')}` : c.params);
    const { cycle, tracker } = cycleFromConfig(text);
    const pods = pool(tracker, ['decode', 'prefill']);
    if (c.warm) cycle.runSync(makeRequest({ prompt: c.prompt }), pods);
    const out = cycle.runSync(makeRequest({ prompt: c.prompt }), pods);
    assert.equal(out.result.profileResults.has('prefill'), c.prefill, c.name);
  }
});

test('filters by role: decode keeps decode/both/unlabelled, prefill keeps prefill/both; no decode pod fails the request', () => {
  const withAlways = exampleConfig('pd.yaml')
    .replace('prefill: prefix-based-pd-decider', 'prefill: always')
    .replace('- type: disagg-profile-handler', '- type: always-disagg-pd-decider\n  name: always\n- type: disagg-profile-handler');
  const cases: { roles: (string | undefined)[]; decode?: RegExp; prefill?: RegExp | null; error?: RegExp }[] = [
    { roles: ['decode', 'prefill'], decode: /^decode-0/, prefill: /^prefill-1/ },
    { roles: [undefined, 'prefill'], decode: /^plain-0/, prefill: /^prefill-1/ },
    { roles: ['both'], decode: /^both-0/, prefill: /^both-0/ },
    { roles: ['decode', 'encode'], decode: /^decode-0/, prefill: null },
    { roles: ['prefill', 'encode'], error: /failed to find available decode workers: profile "decode": .*decode-filter/ },
  ];
  for (const c of cases) {
    const { cycle: cy, tracker: tr } = cycleFromConfig(withAlways);
    const pods = pool(tr, c.roles);
    if (c.error) {
      assert.throws(() => cy.runSync(makeRequest({ prompt: LONG }), pods), (e: unknown) => e instanceof EppError && e.code === ErrorCodes.NO_CAPACITY && c.error!.test(e.message), String(c.roles));
      assert.equal(tr.totalInFlight(), 0, 'nothing reserved on failure');
      continue;
    }
    const out = cy.runSync(makeRequest({ prompt: LONG }), pods);
    assert.match(primaryTargets(out.result)[0]!.endpoint.metadata.name, c.decode!, String(c.roles));
    const p = out.result.profileResults.get('prefill')?.targetEndpoints[0]?.endpoint.metadata.name;
    if (c.prefill === null) assert.equal(p, undefined, `${c.roles}: no prefill pod → decode only`);
    else assert.match(p ?? '', c.prefill!, String(c.roles));
  }
});

const EPD = `
plugins:
- type: disagg-profile-handler
  parameters:
    deciders: {encode: mm, prefill: always}
- {type: always-disagg-multimodal-decider, name: mm}
- {type: always-disagg-pd-decider, name: always}
- type: encode-filter
- type: prefill-filter
- type: decode-filter
- type: max-score-picker
  name: two
  parameters: {maxNumOfEndpoints: 2}
schedulingProfiles:
- name: encode
  plugins: [{pluginRef: encode-filter}, {pluginRef: two}]
- name: prefill
  plugins: [{pluginRef: prefill-filter}]
- name: decode
  plugins: [{pluginRef: decode-filter}]
`;

test('E/P/D: encoders only for multimodal requests, in x-encoder-hosts-ports; deciders may be defined after the handler', () => {
  const { cycle, tracker } = cycleFromConfig(EPD);
  const pods = pool(tracker, ['encode', 'encode', 'prefill', 'decode']);
  const image = makeRequest({ prompt: 'x' });
  const mm = { ...image, body: { ...image.body, api: 'chat-completions' as const, json: { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:' } }] }] } } };
  const out = cycle.runSync(mm, pods);
  assert.deepEqual([...out.result.profileResults.keys()].sort(), ['decode', 'encode', 'prefill']);
  assert.deepEqual(out.requestHeaders.set.get(ENCODERS_HEADER)!.split(',').sort(), ['10.1.0.1:8000', '10.1.0.2:8000']);
  assert.equal(out.requestHeaders.set.get(PREFILL_HEADER), '10.1.0.3:8000');
  const text = cycle.runSync(makeRequest({ prompt: 'plain text' }), pods);
  assert.deepEqual([...text.result.profileResults.keys()].sort(), ['decode', 'prefill']);
  assert.equal(text.requestHeaders.set.has(ENCODERS_HEADER), false);
});

test('a client-sent x-prefiller-host-port is removed when no prefill ran', () => {
  const { cycle, tracker } = cycleFromConfig(exampleConfig('pd.yaml'));
  const pods = pool(tracker, ['decode', 'prefill']);
  const out = cycle.runSync(makeRequest({ prompt: 'short', headers: { [PREFILL_HEADER]: '6.6.6.6:1' } }), pods);
  assert.equal(out.requestHeaders.remove.has(PREFILL_HEADER), true);
});

test('stageOrder prefill-first runs prefill, then decode', () => {
  const text = EPD.replace('deciders: {encode: mm, prefill: always}', 'stageOrder: prefill-first');
  const { cycle, tracker } = cycleFromConfig(text);
  const pods = pool(tracker, ['prefill', 'decode']);
  const out = cycle.runSync(makeRequest({ prompt: LONG }), pods);
  assert.equal(out.result.primaryProfileName, 'decode');
  assert.equal(out.requestHeaders.set.get(PREFILL_HEADER), '10.1.0.1:8000');
});

test('disagg-profile-handler parameters: nested, deprecated flat (warned), and errors naming the parameter', () => {
  const base = (params: string, extra = '') => `
plugins:
- {type: always-disagg-pd-decider, name: always}
- {type: decode-filter}
${extra}- type: disagg-profile-handler
  parameters: ${params}
schedulingProfiles:
- {name: d, plugins: [{pluginRef: decode-filter}]}
- {name: p, plugins: []}
`;
  const ok = cycleFromConfig(base('{profiles: {decode: d, prefill: p}, deciders: {prefill: always}}'));
  assert.equal(ok.config.scheduler.profileHandler.type, 'disagg-profile-handler');
  const legacy = cycleFromConfig(base('{decodeProfile: d, prefillProfile: p, deciderPluginName: always}'));
  assert.ok(legacy.warnings.some((w) => /"deciderPluginName" is deprecated; use "deciders.prefill"/.test(w)), legacy.warnings.join('|'));
  const bad: [string, RegExp][] = [
    ['{profiles: {decode: d}, decodeProfile: d}', /plugins\[2\]\.parameters: .*use either profiles\/deciders or the deprecated flat parameters/],
    ['{profiles: {decode: d}, deciders: {prefill: nobody}}', /plugins\[2\]\.parameters\.deciders\.prefill: .*no plugin named "nobody"/],
    ['{profiles: {decode: d}, deciders: {prefill: decode-filter}}', /parameters\.deciders\.prefill: .*plugin "decode-filter" \(decode-filter\) is not a disaggregation decider/],
    ['{profiles: {decode: d}, stageOrder: sideways}', /parameters\.stageOrder: .*must be "decode-first" or "prefill-first"/],
    ['{profiles: {decode: missing}}', /schedulingProfiles: disagg-profile-handler "disagg-profile-handler" needs a scheduling profile named "missing"/],
    ['{profiles: {decode: 3}}', /parameters\.profiles\.decode: .*must be a string/],
  ];
  for (const [params, want] of bad) {
    assert.throws(() => cycleFromConfig(base(params)), (e: unknown) => e instanceof ConfigError && want.test(e.message), `${params}`);
  }
});

test('pd-profile-handler (deprecated): old parameters, default decider name, primaryPort', () => {
  const config = (params: string) => `
plugins:
- {type: prefix-based-pd-decider, parameters: {nonCachedTokens: 4}}
- {type: prefill-filter}
- {type: decode-filter}
- type: pd-profile-handler
  parameters: ${params}
schedulingProfiles:
- {name: prefill, plugins: [{pluginRef: prefill-filter}]}
- {name: decode, plugins: [{pluginRef: decode-filter}]}
`;
  const metrics = countingMetrics();
  const { cycle, tracker, warnings } = cycleFromConfig(config('{primaryPort: 8200}'), { ...testServices(), metrics });
  assert.ok(warnings.some((w) => /pd-profile-handler is deprecated/.test(w)));
  const pods = pool(tracker, ['decode', 'prefill']);
  const out = cycle.runSync(makeRequest({ prompt: LONG }), pods);
  assert.equal(primaryTargets(out.result)[0]!.endpoint.hostPort, '10.1.0.1:8200', 'primaryPort replaces the destination port');
  assert.equal(out.requestHeaders.set.get(DATA_PARALLEL_HEADER), '10.1.0.1:8000');
  assert.equal(out.requestHeaders.set.get(PREFILL_HEADER), '10.1.0.2:8000');
  assert.equal(metrics.counts.get(`llm_d_epp_pd_decision_total${JSON.stringify(['pd-profile-handler', 'pd-profile-handler', 'base-model', 'prefill-decode'])}`), 1);
  assert.throws(() => cycleFromConfig(config('{deciderPluginName: nope}')), /parameters\.deciderPluginName: .*no plugin named "nope"/);
  assert.throws(() => cycleFromConfig(config('{primaryPort: 70000}')), /parameters\.primaryPort: .*must be a port/);
});

test('disagg-headers-handler / prefill-header-handler set the headers for older configs', () => {
  const text = `
plugins:
- {type: always-disagg-pd-decider}
- {type: prefill-filter}
- {type: decode-filter}
- {type: pd-profile-handler, parameters: {deciderPluginName: always-disagg-pd-decider}}
- {type: prefill-header-handler}
schedulingProfiles:
- {name: prefill, plugins: [{pluginRef: prefill-filter}]}
- {name: decode, plugins: [{pluginRef: decode-filter}]}
`;
  const { cycle, tracker, warnings } = cycleFromConfig(text);
  assert.ok(warnings.some((w) => /prefill-header-handler is deprecated/.test(w)));
  const out = cycle.runSync(makeRequest({ prompt: 'x' }), pool(tracker, ['decode', 'prefill']));
  assert.equal(out.requestHeaders.set.get(PREFILL_HEADER), '10.1.0.2:8000');
});

test('HeaderEditList: later edits of a name win; set and remove never both hold a name', () => {
  const e = new HeaderEditList();
  e.set('X-A', '1');
  e.remove('x-a');
  e.set('x-b', '2');
  e.set('x-b', '3');
  assert.deepEqual([...e.mutation.set], [['x-b', '3']]);
  assert.deepEqual([...e.mutation.remove], ['x-a']);
  e.set('x-a', '4');
  assert.deepEqual([...e.mutation.remove], []);
});
