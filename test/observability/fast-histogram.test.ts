import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../../src/observability/fast-histogram.js';

const buckets = [0.001, 0.01, 0.1, 1];
const observations: [Record<'model_name' | 'target_model_name', string>, number][] = [
  [{ model_name: 'a', target_model_name: 'a' }, 0.0005],
  [{ model_name: 'a', target_model_name: 'a' }, 0.001], // on a bound: that bucket, as prom-client
  [{ model_name: 'a', target_model_name: 'a' }, 0.5],
  [{ model_name: 'b', target_model_name: 'b-v2' }, 7], // past the last bound: only +Inf
  [{ model_name: 'b', target_model_name: 'b-v2' }, 0.02],
  [{ model_name: 'quote"d', target_model_name: 'back\\slash' }, 0.05],
];

test('fast histogram renders exactly as prom-client Histogram for the same observations', async () => {
  const reference = new Registry();
  const ours = new Registry();
  const labelNames = ['model_name', 'target_model_name'] as const;
  const h = new Histogram({ name: 'inference_objective_request_duration_seconds', help: 'Latency.', labelNames, buckets, registers: [reference] });
  const f = new FastHistogram({ name: 'inference_objective_request_duration_seconds', help: 'Latency.', labelNames, buckets, registers: [ours] });
  const bound = f.bind({ model_name: 'a', target_model_name: 'a' });
  for (const [labels, v] of observations) {
    h.observe(labels, v);
    if (labels.model_name === 'a') bound(v);
    else f.observe(labels, v);
  }
  assert.equal(await ours.metrics(), await reference.metrics());
  assert.deepEqual((await ours.getMetricsAsJSON())[0]?.values, (await reference.getMetricsAsJSON())[0]?.values);
});

test('fast histogram: non-finite values are ignored; reset zeroes and bound recorders keep counting', async () => {
  const registry = new Registry();
  const f = new FastHistogram({ name: 'x_seconds', help: 'x', labelNames: ['k'], buckets, registers: [registry] });
  const rec = f.bind({ k: 'v' });
  rec(NaN);
  rec(Infinity);
  rec(0.05);
  assert.match(await registry.metrics(), /^x_seconds_count\{k="v"\} 1$/m);
  f.reset();
  assert.match(await registry.metrics(), /^x_seconds_count\{k="v"\} 0$/m);
  rec(0.05);
  assert.match(await registry.metrics(), /^x_seconds_count\{k="v"\} 1$/m);
});
