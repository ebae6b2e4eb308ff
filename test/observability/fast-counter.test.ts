import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Registry } from 'prom-client';
import { FastCounter, FastGauge } from '../../src/observability/fast-counter.js';

type L = 'model_name' | 'target_model_name' | 'priority';
const events: [Record<L, string>, number][] = [
  [{ model_name: 'a', target_model_name: 'a', priority: '0' }, 1],
  [{ model_name: 'b', target_model_name: 'b-v2', priority: '-1' }, 1],
  [{ model_name: 'a', target_model_name: 'a', priority: '0' }, 2.5],
  [{ model_name: 'quote"d', target_model_name: 'back\\slash', priority: '0' }, 1],
];
const labelNames = ['model_name', 'target_model_name', 'priority'] as const;

test('fast counter and gauge render exactly as prom-client Counter and Gauge for the same events', async () => {
  const reference = new Registry();
  const ours = new Registry();
  const c = new Counter({ name: 'inference_objective_request_total', help: 'Requests.', labelNames, registers: [reference] });
  const g = new Gauge({ name: 'inference_objective_running_requests', help: 'Running.', labelNames, registers: [reference] });
  new Counter({ name: 'unlabelled_total', help: 'No labels.', registers: [reference] });
  const fc = new FastCounter({ name: 'inference_objective_request_total', help: 'Requests.', labelNames, registers: [ours] });
  const fg = new FastGauge({ name: 'inference_objective_running_requests', help: 'Running.', labelNames, registers: [ours] });
  new FastCounter({ name: 'unlabelled_total', help: 'No labels.', labelNames: [], registers: [ours] });
  for (const [labels, v] of events) {
    c.inc(labels, v);
    fc.inc(labels, v);
    g.inc(labels, v);
    fg.inc(labels, v);
  }
  g.dec(events[0]![0], 3);
  fg.dec(events[0]![0], 3);
  g.set(events[1]![0], 7);
  fg.set(events[1]![0], 7);
  assert.equal(await ours.metrics(), await reference.metrics());
  assert.deepEqual(await ours.getMetricsAsJSON(), await reference.getMetricsAsJSON());
});

test('fast counter: refuses to go down; a bound cell and reset share the live series', async () => {
  const registry = new Registry();
  const c = new FastCounter({ name: 'x_total', help: 'x', labelNames: ['k'], registers: [registry] });
  assert.throws(() => c.inc({ k: 'v' }, -1), /x_total: a counter only grows/);
  assert.throws(() => c.inc({ k: 'v' }, NaN), /only grows/);
  const cell = c.bind({ k: 'v' });
  cell.value++;
  c.inc({ k: 'v' });
  assert.match(await registry.metrics(), /^x_total\{k="v"\} 2$/m);
  c.reset();
  cell.value++;
  assert.match(await registry.metrics(), /^x_total\{k="v"\} 1$/m);
  c.remove({ k: 'v' });
  assert.doesNotMatch(await registry.metrics(), /x_total\{/);
  c.inc({ k: 'v' });
  assert.match(await registry.metrics(), /^x_total\{k="v"\} 1$/m, 'a removed label set starts again at 0');
});
