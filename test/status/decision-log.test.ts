/** The decision log: nothing recorded unwatched; watched, every profile's per-scorer scores and the pick. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/framework/registry.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';
import { loadConfig } from '../../src/config/loader.js';
import { ProfileScheduler } from '../../src/scheduling/scheduler.js';
import { PickCycle } from '../../src/director/pick-cycle.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { DecisionLog } from '../../src/status/decision-log.js';
import { makeEndpoint, makeRequest, testServices } from '../helpers/fixtures.js';

function cycle(log: DecisionLog) {
  const config = loadConfig(
    {
      configText: `plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
schedulingProfiles:
- name: default
  plugins: [{pluginRef: queue-scorer, weight: 2}, {pluginRef: kv-cache-utilization-scorer, weight: 1}, {pluginRef: prefix-cache-scorer, weight: 3}]
`,
    },
    registerInTreePlugins(new Registry()),
    testServices(),
    { warn: () => {} },
  );
  const tracker = new LoadTracker(() => 1_000);
  const scheduler = new ProfileScheduler(config.scheduler, undefined, { trace: log });
  return new PickCycle({ producers: config.producers, scheduler, preRequests: config.preRequests, loadTracker: tracker, trace: log });
}

const pods = [makeEndpoint({ name: 'busy', queue: 8, kv: 0.9 }), makeEndpoint({ name: 'idle', queue: 0, kv: 0.1 })];

test('decision log: unwatched it records nothing; watched it keeps each scorer column, the totals, the pick, the prefix match', () => {
  const t = { now: 0 };
  const log = new DecisionLog({ capacity: 3, watchMs: 60_000, minGapMs: 0, now: () => t.now });
  const c = cycle(log);
  c.runSync(makeRequest({ prompt: 'x'.repeat(400) }), pods);
  assert.equal(log.recent().length, 0, 'not watched: nothing recorded');

  log.watched();
  const secret = 'the user prompt must never be recorded '.repeat(10);
  c.runSync(makeRequest({ prompt: secret, requestId: 'r1', model: 'm' }), pods);
  const [d] = log.recent();
  assert.equal(d!.requestId, 'r1');
  assert.equal(d!.model, 'm');
  assert.equal(d!.primaryProfile, 'default');
  const p = d!.profiles[0]!;
  assert.deepEqual(p.candidates, ['busy', 'idle']);
  assert.deepEqual(p.scorers.map((s) => [s.scorer, s.weight]), [['queue-scorer', 2], ['kv-cache-utilization-scorer', 1], ['prefix-cache-scorer', 3]]);
  assert.deepEqual(p.scorers[0]!.scores, [0, 1], 'queue: the busy pod scores 0, the idle one 1');
  const totals = p.candidates.map((_, i) => p.scorers.reduce((sum, s) => sum + s.scores[i]! * s.weight, 0));
  assert.deepEqual(p.totals, totals.map((x) => Math.round(x * 1e4) / 1e4), 'totals are the weighted sums');
  assert.deepEqual(p.picked, ['idle']);
  assert.equal(d!.destination, pods[1]!.hostPort);
  assert.deepEqual(d!.prefix, { matchedBlocks: 0, totalBlocks: d!.prefix!.totalBlocks });
  assert.ok(d!.prefix!.totalBlocks > 0);
  assert.ok(!JSON.stringify(log.recent()).includes('user prompt'), 'no prompt text');

  // The same prompt and model again: the idle pod now holds its blocks.
  c.runSync(makeRequest({ prompt: secret, model: 'm' }), pods);
  assert.equal(log.recent()[0]!.prefix!.matchedBlocks, log.recent()[0]!.prefix!.totalBlocks);

  for (let i = 0; i < 5; i++) c.runSync(makeRequest({ prompt: `p${i}` }), pods);
  assert.equal(log.recent().length, 3, 'bounded by capacity');
  assert.ok(log.recent()[0]!.seq > log.recent()[1]!.seq, 'newest first');

  log.close();
  const last = log.recent()[0]!.seq;
  c.runSync(makeRequest({ prompt: 'late' }), pods);
  assert.equal(log.recent()[0]!.seq, last, 'closed: nothing more recorded');
});

test('decision log: a busy EPP is sampled, one cycle per minGapMs, whole (a skipped cycle leaves nothing half-recorded)', () => {
  const t = { now: 1_000 };
  const log = new DecisionLog({ capacity: 50, minGapMs: 20, now: () => t.now });
  log.watched();
  const c = cycle(log);
  for (let i = 0; i < 10; i++) {
    c.runSync(makeRequest({ prompt: `q${i}`, requestId: `r${i}` }), pods);
    t.now += 7; // ~143 requests a second
  }
  assert.deepEqual(log.recent().map((d) => d.requestId).reverse(), ['r0', 'r3', 'r6', 'r9'], 'one every 21 ms of a 7 ms cadence');
  for (const d of log.recent()) assert.equal(d.profiles[0]!.scorers.length, 3, `${d.requestId} has every scorer`);
  log.close();
});

test('decision log: a watch ends by itself after watchMs, and a new read starts it again', async () => {
  const log = new DecisionLog({ watchMs: 30 });
  log.watched();
  assert.equal(log.active, true);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(log.active, false);
  log.watched();
  assert.equal(log.active, true);
  log.close();
});
