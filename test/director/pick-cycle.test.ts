import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/framework/registry.js';
import { primaryTargets } from '../../src/framework/scheduling.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';
import { loadConfig } from '../../src/config/loader.js';
import { ProfileScheduler } from '../../src/scheduling/scheduler.js';
import { PickCycle } from '../../src/director/pick-cycle.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { makeEndpoint, makeRequest, testServices } from '../helpers/fixtures.js';

/** The Go EPP's default config (no config file), wired as the director wires it. */
function defaultCycle(seed: number) {
  const config = loadConfig({}, registerInTreePlugins(new Registry()), testServices(seed), { warn: () => {} });
  const tracker = new LoadTracker(() => 1_000);
  const pods = ['pod1', 'pod2', 'pod3', 'pod4'].map((name) => makeEndpoint({ name, queue: 0, kv: 0.1, updateTime: 500 }, tracker));
  const cycle = new PickCycle({ producers: config.producers, scheduler: new ProfileScheduler(config.scheduler), preRequests: config.preRequests, loadTracker: tracker });
  return { cycle, tracker, pods };
}

const uniquePrompt = (i: number) => `request number ${i} ${'x'.repeat(200)}`;

test('100 back-to-back picks over 4 equal pods spread evenly: the reservation is seen by the next cycle', () => {
  for (const seed of [1, 2, 3]) {
    const { cycle, pods } = defaultCycle(seed);
    const counts = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const { result } = cycle.runSync(makeRequest({ prompt: uniquePrompt(i) }), pods);
      const name = primaryTargets(result)[0]!.endpoint.metadata.name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    // Without the reservation ties break at random and the counts scatter; with it each pod gets every 4th.
    assert.deepEqual([...counts.values()], [25, 25, 25, 25], `seed ${seed}: ${JSON.stringify([...counts])}`);
  }
});

test('an identical prompt right after the first goes to the same pod: prefix learning is synchronous', () => {
  const { cycle, pods } = defaultCycle(4);
  const prompt = 'shared system prompt '.repeat(40);
  const first = primaryTargets(cycle.runSync(makeRequest({ prompt }), pods).result)[0]!.endpoint.key;
  const second = primaryTargets(cycle.runSync(makeRequest({ prompt }), pods).result)[0]!.endpoint.key;
  assert.equal(second, first);
});

test('reservations count in-flight requests and tokens and release exactly once', () => {
  const { cycle, tracker, pods } = defaultCycle(5);
  const outcomes = Array.from({ length: 6 }, (_, i) => cycle.runSync(makeRequest({ prompt: uniquePrompt(i) }), pods));
  assert.equal(tracker.totalInFlight(), 6);
  const tokens = pods.reduce((sum, p) => sum + p.load.inFlightTokens, 0);
  assert.equal(tokens, outcomes.reduce((sum, o) => sum + o.reservation!.tokens, 0));
  for (const o of outcomes) {
    tracker.release(o.reservation!);
    tracker.release(o.reservation!); // a second release (e.g. error after disconnect) changes nothing
  }
  assert.equal(tracker.totalInFlight(), 0);
  assert.equal(pods.reduce((sum, p) => sum + p.load.inFlightTokens + p.load.unscrapedDispatches, 0), 0);
});

test('a scrape taken after a dispatch absorbs it; one taken before does not', () => {
  let now = 1_000;
  const tracker = new LoadTracker(() => now);
  const record = tracker.loadOf('default/p');
  tracker.reserve('default/p', 10);
  now = 2_000;
  tracker.reserve('default/p', 10);
  assert.equal(record.unscrapedDispatches, 2);
  tracker.scraped('default/p', 900);
  assert.equal(record.unscrapedDispatches, 2);
  tracker.scraped('default/p', 1_500);
  assert.equal(record.unscrapedDispatches, 1);
  assert.equal(record.inFlightRequests, 2, 'in-flight counts are released by completion, not by scrapes');
});
