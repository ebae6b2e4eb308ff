import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry as PromRegistry } from 'prom-client';
import { Registry } from '../../src/framework/registry.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';
import { loadConfig } from '../../src/config/loader.js';
import { ProfileScheduler } from '../../src/scheduling/scheduler.js';
import { PickCycle } from '../../src/director/pick-cycle.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { PromSchedulingObserver } from '../../src/observability/scheduler-metrics.js';
import { makeEndpoint, makeRequest, testServices } from '../helpers/fixtures.js';

test('a pick cycle shows up under the Go EPP metric names, per plugin and extension point', async () => {
  const prom = new PromRegistry();
  const observer = new PromSchedulingObserver(prom);
  const config = loadConfig({}, registerInTreePlugins(new Registry()), testServices(), { warn: () => {} });
  const tracker = new LoadTracker();
  const cycle = new PickCycle(
    { producers: config.producers, scheduler: new ProfileScheduler(config.scheduler, observer), preRequests: config.preRequests, loadTracker: tracker },
    observer,
  );
  const pods = ['a', 'b'].map((name) => makeEndpoint({ name }, tracker));
  cycle.run(makeRequest({ prompt: 'x'.repeat(300) }), pods);
  cycle.run(makeRequest({ prompt: 'y'.repeat(300) }), pods);
  assert.throws(() => cycle.run(makeRequest(), [])); // no candidates: the cycle fails and is counted

  const text = await prom.metrics();
  const count = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1]);
  assert.equal(count('inference_extension_scheduler_attempts_total{status="success"}'), 2);
  assert.equal(count('inference_extension_scheduler_attempts_total{status="failure"}'), 1);
  assert.equal(count('inference_extension_scheduler_e2e_duration_seconds_count'), 3);
  for (const [point, type, name, n] of [
    ['Scorer', 'queue-scorer', 'queue-scorer', 2],
    ['Scorer', 'prefix-cache-scorer', 'prefix-cache-scorer', 2],
    ['Picker', 'max-score-picker', 'max-score-picker', 2],
    ['ProfilePicker', 'single-profile-handler', 'single-profile-handler', 6], // two calls a cycle: run, then "no more"
    ['PrepareData', 'approx-prefix-cache-producer', 'approx-prefix-cache-producer', 3],
    ['PreRequest', 'approx-prefix-cache-producer', 'approx-prefix-cache-producer', 2],
  ] as const) {
    const series = `inference_extension_plugin_duration_seconds_count{extension_point="${point}",plugin_type="${type}",plugin_name="${name}"}`;
    assert.equal(count(series), n, series);
  }
});
