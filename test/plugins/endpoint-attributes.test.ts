/** dcgm-data-source, dcgm-extractor, endpoint-attribute-filter and -scorer: parameters, extraction, thresholds, scores. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registration as sourceRegistration, type DcgmDataSource } from '../../src/plugins/dcgm-data-source/index.js';
import { DcgmExtractor, GPU_UTILIZATION_KEY } from '../../src/plugins/dcgm-extractor/index.js';
import { registration as filterRegistration, type EndpointAttributeFilter } from '../../src/plugins/endpoint-attribute-filter/index.js';
import { registration as scorerRegistration, type EndpointAttributeScorer } from '../../src/plugins/endpoint-attribute-scorer/index.js';
import { makeEndpoint, makeRequest, testHandle } from '../helpers/fixtures.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import type { EndpointMetadata } from '../../src/framework/endpoint.js';

test('dcgm-data-source: llm-d defaults, parameters, and clear errors', () => {
  const cases: { params: unknown; want?: object; error?: RegExp }[] = [
    { params: undefined, want: { scheme: 'http', path: '/metrics', port: 9400, insecureSkipVerify: true, useNodeAddress: false, intervalMs: undefined } },
    { params: { port: 9500, interval: '1s', useNodeAddress: true, scheme: 'https', insecureSkipVerify: false }, want: { scheme: 'https', port: 9500, intervalMs: 1000, useNodeAddress: true, insecureSkipVerify: false } },
    { params: { port: 0 }, error: /parameters\.port.*must be a port/ },
    { params: { scheme: 'ftp' }, error: /parameters\.scheme.*"http" or "https"/ },
    { params: { path: 'metrics' }, error: /parameters\.path.*starting with "\/"/ },
    { params: { interval: 'often' }, error: /parameters\.interval.*invalid duration "often"/ },
  ];
  for (const c of cases) {
    const make = () => sourceRegistration.factory('dcgm', c.params, testHandle()) as DcgmDataSource;
    if (c.error) assert.throws(make, c.error, JSON.stringify(c.params));
    else assert.deepEqual({ ...make().attributePage, ...c.want }, make().attributePage, JSON.stringify(c.params));
  }
});

const meta = (name: string): EndpointMetadata => ({ name, namespace: 'ns', address: '10.0.0.1', port: 8000, labels: {} });
const util = (value: number, pod?: string) => ({ name: 'DCGM_FI_DEV_GPU_UTIL', labels: new Map(pod ? [['pod', pod]] : []), value });

test('dcgm-extractor: the busiest GPU of this pod, as a 0..1 fraction', () => {
  const x = new DcgmExtractor('dcgm-extractor');
  const cases: { name: string; samples: ReturnType<typeof util>[]; pod: string; want?: number; error?: RegExp }[] = [
    { name: 'sidecar: unlabelled samples, max of the GPUs', samples: [util(30), util(70)], pod: 'p1', want: 0.7 },
    { name: 'DaemonSet: only this pod’s samples', samples: [util(90, 'p2'), util(20, 'p1'), util(40, 'p1')], pod: 'p1', want: 0.4 },
    { name: 'rank endpoints of a multi-port pod match the pod label', samples: [util(55, 'p1'), util(99, 'p2')], pod: 'p1-rank-1', want: 0.55 },
    { name: 'metric absent', samples: [], pod: 'p1', error: /DCGM_FI_DEV_GPU_UTIL not found/ },
    { name: 'no sample for this pod', samples: [util(90, 'p2')], pod: 'p1', error: /no sample for pod "p1"/ },
    { name: 'NaN value', samples: [util(NaN)], pod: 'p1', error: /non-numeric/ },
  ];
  for (const c of cases) {
    if (c.error) assert.throws(() => x.extractAttributes(c.samples, meta(c.pod)), c.error, c.name);
    else assert.deepEqual([...x.extractAttributes(c.samples, meta(c.pod))], [[GPU_UTILIZATION_KEY, c.want]], c.name);
  }
  assert.equal(GPU_UTILIZATION_KEY, 'GPUUtilization/dcgm-extractor');
});

const pods = (...values: (number | undefined)[]) =>
  values.map((v, i) => makeEndpoint({ name: `p${i}`, attributes: new Map(v === undefined ? [] : [[GPU_UTILIZATION_KEY, v]]) }));
const names = (list: readonly { metadata: { name: string } }[]) => list.map((e) => e.metadata.name);

test('endpoint-attribute-filter: threshold operators, onMissing, fallbackOnEmpty, producer resolution', () => {
  const base = { attribute: 'GPUUtilization', producer: 'dcgm-extractor', algorithm: { type: 'threshold', threshold: { operator: 'LessThanOrEqual', value: 0.9 } } };
  const cases: { name: string; params: object; values: (number | undefined)[]; want?: string[]; error?: RegExp }[] = [
    { name: 'LessThanOrEqual keeps the boundary', params: base, values: [0.95, 0.9, 0.2], want: ['p1', 'p2'] },
    { name: 'missing passes by default', params: base, values: [undefined, 0.95], want: ['p0'] },
    { name: 'onMissing Fail drops it', params: { ...base, onMissing: 'Fail' }, values: [undefined, 0.5], want: ['p1'] },
    { name: 'all dropped: empty', params: base, values: [0.95, 0.99], want: [] },
    { name: 'all dropped with fallbackOnEmpty: all', params: { ...base, fallbackOnEmpty: true }, values: [0.95, 0.99], want: ['p0', 'p1'] },
    { name: 'GreaterThan', params: { ...base, algorithm: { type: 'threshold', threshold: { operator: 'GreaterThan', value: 0.5 } } }, values: [0.5, 0.6], want: ['p1'] },
    { name: 'NotEqual', params: { ...base, algorithm: { type: 'threshold', threshold: { operator: 'NotEqual', value: 0.5 } } }, values: [0.5, 0.6], want: ['p1'] },
    { name: 'no producer: the core metrics extractor’s attribute, not dcgm’s', params: { ...base, producer: undefined, onMissing: 'Fail' }, values: [0.1], want: [] },
    { name: 'combined spelling refused', params: { ...base, attribute: 'GPUUtilization/dcgm-extractor', producer: undefined }, values: [], error: /parameters\.attribute.*contains "\/" but no producer.*attribute "GPUUtilization", producer "dcgm-extractor"/ },
    { name: 'attribute required', params: { ...base, attribute: undefined }, values: [], error: /parameters\.attribute.*required/ },
    { name: 'unknown operator', params: { ...base, algorithm: { type: 'threshold', threshold: { operator: 'Around', value: 1 } } }, values: [], error: /threshold\.operator.*one of LessThan/ },
    { name: 'unknown algorithm', params: { ...base, algorithm: { type: 'topK' } }, values: [], error: /algorithm\.type.*"threshold"/ },
    { name: 'threshold missing', params: { ...base, algorithm: { type: 'threshold' } }, values: [], error: /algorithm\.threshold.*required/ },
    { name: 'bad onMissing', params: { ...base, onMissing: 'Skip' }, values: [], error: /onMissing.*"Pass" or "Fail"/ },
  ];
  for (const c of cases) {
    const make = () => filterRegistration.factory('f', c.params, testHandle()) as EndpointAttributeFilter;
    if (c.error) assert.throws(make, c.error, c.name);
    else assert.deepEqual(names(make().filter(new MapCycleState(), makeRequest(), pods(...c.values))), c.want, c.name);
  }
});

test('endpoint-attribute-scorer: adaptive and fixed ranges, direction, missing values, parameter errors', () => {
  const base = { attributeKey: 'GPUUtilization', producer: 'dcgm-extractor' };
  const lower = { type: 'linear_lower_is_better' };
  const cases: { name: string; params: object; values: (number | undefined)[]; want?: number[]; error?: RegExp }[] = [
    { name: 'adaptive, lower is better', params: { ...base, algorithm: lower }, values: [0.2, 0.6, 1.0], want: [1, 0.5, 0] },
    { name: 'adaptive, higher is better', params: { ...base, algorithm: { type: 'linear_higher_is_better' } }, values: [2, 4, 6], want: [0, 0.5, 1] },
    { name: 'adaptive, all equal: neutral 1', params: { ...base, algorithm: lower }, values: [0.3, 0.3], want: [1, 1] },
    { name: 'missing scores 0 and stays out of the range', params: { ...base, algorithm: lower }, values: [undefined, 0.5, 1.0], want: [0, 1, 0] },
    { name: 'fixed [0,1], lower is better', params: { ...base, algorithm: { ...lower, normalization: { fixedRange: { min: 0, max: 1 } } } }, values: [0.25, 0.9], want: [0.75, 0.1] },
    { name: 'fixed range clamps', params: { ...base, algorithm: { type: 'linear_higher_is_better', normalization: { fixedRange: { min: 10, max: 20 } } } }, values: [5, 25, 15], want: [0, 1, 0.5] },
    { name: 'fixed min ≥ max refused', params: { ...base, algorithm: { ...lower, normalization: { fixedRange: { min: 1, max: 1 } } } }, values: [], error: /fixedRange.*min < max/ },
    { name: 'both strategies refused', params: { ...base, algorithm: { ...lower, normalization: { fixedRange: { min: 0, max: 1 }, adaptiveRange: {} } } }, values: [], error: /one strategy/ },
    { name: 'unknown algorithm', params: { ...base, algorithm: { type: 'log' } }, values: [], error: /algorithm\.type.*linear_lower_is_better or linear_higher_is_better/ },
    { name: 'attributeKey required', params: { algorithm: lower }, values: [], error: /parameters\.attributeKey.*required/ },
  ];
  for (const c of cases) {
    const make = () => scorerRegistration.factory('s', c.params, testHandle()) as EndpointAttributeScorer;
    if (c.error) assert.throws(make, c.error, c.name);
    else assert.deepEqual([...make().score(new MapCycleState(), makeRequest(), pods(...c.values))].map((x) => Math.round(x * 1e9) / 1e9), c.want, c.name);
  }
});
