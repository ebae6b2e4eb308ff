/** utilization-detector: saturation values, filter outcomes and parameter errors, table-driven. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Filter } from '../../src/framework/scheduling.js';
import { isFilter } from '../../src/framework/scheduling.js';
import { isSaturationDetector, type SaturationDetector } from '../../src/framework/saturation.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { ConfigError } from '../../src/errors.js';
import { registration, detectorOverrides } from '../../src/plugins/utilization-detector/index.js';
import { makeEndpoint, makeRequest, testHandle, testServices, type EndpointSpec } from '../helpers/fixtures.js';

const NOW = 1_000_000;
/** Scraped 10ms ago: fresh under the 200ms default. */
const FRESH = NOW - 10;
/** Scraped 500ms ago: stale under the 200ms default. */
const OLD = NOW - 500;

type Detector = SaturationDetector & Filter;
const make = (params?: unknown) =>
  registration.factory('ud', params, testHandle(testServices(1, () => NOW))) as Detector;
const pods = (specs: Omit<EndpointSpec, 'name'>[]) =>
  specs.map((s, i) => makeEndpoint({ name: `p${i}`, updateTime: FRESH, ...s }));
const round = (x: number) => Math.round(x * 1e9) / 1e9;

test('utilization-detector is both a saturation detector and a filter', () => {
  const d = make();
  assert.equal(d.type, 'utilization-detector');
  assert.equal(d.name, 'ud');
  assert.ok(isSaturationDetector(d));
  assert.ok(isFilter(d));
  assert.notEqual(registration.takesNoParameters, true);
});

interface SaturationCase {
  name: string;
  params?: unknown;
  pods: Omit<EndpointSpec, 'name'>[];
  want: number;
  saturated: boolean;
}

const saturationCases: SaturationCase[] = [
  { name: 'idle pool → 0', pods: [{}, {}], want: 0, saturated: false },
  { name: 'idle pool → exact mean', pods: [{ queue: 1, kv: 0.2 }, { queue: 2, kv: 0.4 }], want: (0.25 + 0.5) / 2, saturated: false },
  { name: 'one queue at threshold', pods: [{ queue: 5 }], want: 1, saturated: true },
  { name: 'one queue at threshold among two idle', pods: [{ queue: 5 }, {}, {}], want: 1 / 3, saturated: false },
  { name: 'kv over threshold', pods: [{ kv: 0.96 }], want: 1.2, saturated: true },
  { name: 'max of queue and kv ratios', pods: [{ queue: 4, kv: 0.4 }], want: 0.8, saturated: false },
  { name: 'stale endpoint counts 1', pods: [{ updateTime: OLD }, {}], want: 0.5, saturated: false },
  { name: 'never-scraped endpoint counts 1', pods: [{ updateTime: 0, queue: 0 }], want: 1, saturated: true },
  { name: 'stale overrides its low metrics', pods: [{ updateTime: OLD, queue: 0, kv: 0 }], want: 1, saturated: true },
  { name: 'metrics exactly at the staleness threshold are fresh', pods: [{ updateTime: NOW - 200 }], want: 0, saturated: false },
  { name: 'empty → 1', pods: [], want: 1, saturated: true },
  { name: 'headroom does not change saturation', params: { headroom: 0.5 }, pods: [{ queue: 5 }, { kv: 0.4 }], want: 0.75, saturated: false },
  { name: 'custom thresholds', params: { queueDepthThreshold: 10, kvCacheUtilThreshold: 0.5 }, pods: [{ queue: 5 }, { kv: 0.5 }], want: 0.75, saturated: false },
  { name: 'custom staleness threshold', params: { metricsStalenessThreshold: '1s' }, pods: [{ updateTime: OLD }], want: 0, saturated: false },
];

test('saturation', () => {
  for (const c of saturationCases) {
    const d = make(c.params) as Detector & { isSaturated(e: readonly unknown[]): boolean };
    const eps = pods(c.pods);
    assert.equal(round(d.saturation(eps)), round(c.want), c.name);
    assert.equal(d.saturation(eps) >= 1, c.saturated, `${c.name} (saturated)`);
    assert.equal(d.isSaturated(eps), c.saturated, `${c.name} (isSaturated)`);
  }
});

interface FilterCase {
  name: string;
  params?: unknown;
  pods: Omit<EndpointSpec, 'name'>[];
  /** Indexes of the pods kept, in order. */
  want: number[];
}

const filterCases: FilterCase[] = [
  { name: 'keeps fresh unsaturated', pods: [{ queue: 1, kv: 0.1 }, { queue: 4, kv: 0.79 }], want: [0, 1] },
  { name: 'drops stale', pods: [{ updateTime: OLD }, {}], want: [1] },
  { name: 'drops never scraped', pods: [{ updateTime: 0 }, {}], want: [1] },
  { name: 'drops by queue (at threshold)', pods: [{ queue: 5 }, { queue: 4 }], want: [1] },
  { name: 'drops by kv (at threshold)', pods: [{ kv: 0.8 }, { kv: 0.5 }], want: [1] },
  { name: 'headroom 0.5 keeps q=6 with threshold 5', params: { headroom: 0.5 }, pods: [{ queue: 6 }, { queue: 8 }], want: [0] },
  { name: 'headroom 0.5 stretches kv to 1.2', params: { headroom: 0.5 }, pods: [{ kv: 1 }], want: [0] },
  { name: 'all dropped → all kept', pods: [{ queue: 9 }, { updateTime: OLD }, { kv: 0.9 }], want: [0, 1, 2] },
  { name: 'empty stays empty', pods: [], want: [] },
];

test('filter', () => {
  for (const c of filterCases) {
    const d = make(c.params);
    const eps = pods(c.pods);
    const got = d.filter(new MapCycleState(), makeRequest(), eps);
    assert.deepEqual(
      got.map((e) => eps.indexOf(e)),
      c.want,
      c.name,
    );
  }
});

const badParams: { params: unknown; message: string }[] = [
  { params: 'x', message: 'parameters: must be an object, got "x"' },
  { params: { queueDepthThreshold: 0 }, message: 'parameters.queueDepthThreshold: must be a positive integer, got 0' },
  { params: { queueDepthThreshold: 2.5 }, message: 'parameters.queueDepthThreshold: must be a positive integer, got 2.5' },
  { params: { queueDepthThreshold: '5' }, message: 'parameters.queueDepthThreshold: must be a positive integer, got "5"' },
  { params: { kvCacheUtilThreshold: 0 }, message: 'parameters.kvCacheUtilThreshold: must be a number in (0, 1], got 0' },
  { params: { kvCacheUtilThreshold: 1.5 }, message: 'parameters.kvCacheUtilThreshold: must be a number in (0, 1], got 1.5' },
  { params: { kvCacheUtilThreshold: 'high' }, message: 'parameters.kvCacheUtilThreshold: must be a number in (0, 1], got "high"' },
  {
    params: { metricsStalenessThreshold: 200 },
    message: 'parameters.metricsStalenessThreshold: must be a duration string such as "200ms", got 200',
  },
  {
    params: { metricsStalenessThreshold: 'soon' },
    message: 'parameters.metricsStalenessThreshold: invalid duration "soon" (want e.g. 50ms, 2s, 1m30s)',
  },
  { params: { headroom: -0.1 }, message: 'parameters.headroom: must be a non-negative number, got -0.1' },
  { params: { headroom: 'lots' }, message: 'parameters.headroom: must be a non-negative number, got "lots"' },
];

test('bad parameters are ConfigErrors naming the parameter', () => {
  for (const b of badParams) {
    assert.throws(
      () => make(b.params),
      (e: unknown) => e instanceof ConfigError && e.message === b.message,
      b.message,
    );
  }
});

test('boundary parameters are accepted', () => {
  assert.doesNotThrow(() => make({ kvCacheUtilThreshold: 1, headroom: 0, metricsStalenessThreshold: '0' }));
});

const overrideCases: { name: string; section: Parameters<typeof detectorOverrides>[0]; want: Record<string, unknown> }[] = [
  { name: 'no section', section: undefined, want: {} },
  { name: 'only pluginRef-style empty section', section: {}, want: {} },
  {
    name: 'all thresholds',
    section: { queueDepthThreshold: 7, kvCacheUtilThreshold: 0.9, metricsStalenessThreshold: '1s' },
    want: { queueDepthThreshold: 7, kvCacheUtilThreshold: 0.9, metricsStalenessThreshold: '1s' },
  },
  { name: 'zero values mean unset (Go zero value)', section: { queueDepthThreshold: 0, kvCacheUtilThreshold: 0, metricsStalenessThreshold: '0' }, want: {} },
  { name: 'invalid values pass through for the factory to reject', section: { queueDepthThreshold: -1 }, want: { queueDepthThreshold: -1 } },
];

test('detectorOverrides maps the top-level saturationDetector section to parameters', () => {
  for (const c of overrideCases) assert.deepEqual(detectorOverrides(c.section), c.want, c.name);
  const d = make(detectorOverrides({ queueDepthThreshold: 10, metricsStalenessThreshold: '1s' }));
  assert.equal(d.saturation(pods([{ queue: 5 }, { updateTime: OLD }])), 0.25);
  assert.throws(() => make(detectorOverrides({ queueDepthThreshold: -1 })), ConfigError);
});
