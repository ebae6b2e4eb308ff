/** The Go EPP's own test vectors, run through our scheduler and plugins. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Plugin, PluginRegistration } from '../../src/framework/plugin.js';
import type { Picker, Scorer, ScoredEndpoint, SchedulingResult, ProfileHandler } from '../../src/framework/scheduling.js';
import { ProfileScheduler } from '../../src/scheduling/scheduler.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { registration as queue } from '../../src/plugins/queue-scorer/index.js';
import { registration as kv } from '../../src/plugins/kv-cache-utilization-scorer/index.js';
import { registration as lora } from '../../src/plugins/lora-affinity-scorer/index.js';
import { registration as prefixScorer } from '../../src/plugins/prefix-cache-scorer/index.js';
import { registration as producerReg, ApproxPrefixCacheProducer } from '../../src/plugins/approx-prefix-cache-producer/index.js';
import { registration as maxScore } from '../../src/plugins/max-score-picker/index.js';
import { registration as single } from '../../src/plugins/single-profile-handler/index.js';
import { makeEndpoint, makeRequest, testHandle } from '../helpers/fixtures.js';

const make = <T extends Plugin>(r: PluginRegistration, params?: unknown) => r.factory(r.type, params, testHandle()) as T;

test('Go vector: LoRA affinity beats equal load; pod2 wins with 2.8', () => {
  const pods = [
    makeEndpoint({ name: 'pod1', queue: 0, kv: 0.2, maxLora: 2, active: ['foo', 'bar'] }),
    makeEndpoint({ name: 'pod2', queue: 0, kv: 0.2, maxLora: 2, active: ['foo', 'critical'] }),
    makeEndpoint({ name: 'pod3', queue: 10, kv: 0.8, maxLora: 2, active: ['foo'] }),
  ];
  const picker = make<Picker>(maxScore);
  let totals: readonly ScoredEndpoint[] = [];
  const spy: Picker = { type: picker.type, name: picker.name, pick: (cs, s) => ((totals = s), picker.pick(cs, s)) };
  const producer = make<ApproxPrefixCacheProducer>(producerReg);
  const scheduler = new ProfileScheduler({
    profileHandler: make<ProfileHandler>(single),
    profiles: [
      {
        name: 'default',
        filters: [],
        scorers: [queue, kv, prefixScorer, lora].map((r) => ({ scorer: make<Scorer>(r), weight: 1 })),
        picker: spy,
      },
    ],
  });
  const request = makeRequest({ targetModel: 'critical', prompt: 'a prompt long enough to hash into a few blocks of sixty-four bytes each.' });
  const cycleState = new MapCycleState();
  producer.produce(request, pods, cycleState);
  const result = scheduler.scheduleSync(request, pods, cycleState);
  const best = result.profileResults.get('default')!.targetEndpoints[0]!;
  assert.equal(best.endpoint.metadata.name, 'pod2');
  assert.ok(Math.abs(best.score - 2.8) < 1e-9, String(best.score));
  const byName = Object.fromEntries(totals.map((t) => [t.endpoint.metadata.name, Math.round(t.score * 1e9) / 1e9]));
  assert.deepEqual(byName, { pod1: 1.8, pod2: 2.8, pod3: 1 });
});

test('Go vector: prefix blocks learned on the primary and the prefill pod', () => {
  const producer = make<ApproxPrefixCacheProducer>(producerReg, { blockSizeTokens: 1, autoTune: false });
  const scorer = make<Scorer>(prefixScorer);
  const [pod1, pod2, pod3] = ['pod1', 'pod2', 'pod3'].map((name) => makeEndpoint({ name }));
  const pods = [pod1!, pod2!, pod3!];

  const first = makeRequest({ prompt: 'aaaaaa' });
  let cs = new MapCycleState();
  producer.produce(first, pods, cs);
  assert.equal(Array.from(scorer.score(cs, first, pods)).length, 3);
  assert.equal(cs.read<{ totalBlocks: number }>('prefix-cache-match-info')!.totalBlocks, 2, '"aaaaaa" is one full block of 4 chars and a partial one');
  const routed: SchedulingResult = {
    primaryProfileName: 'decode',
    profileResults: new Map([
      ['decode', { targetEndpoints: [{ endpoint: pod1!, score: 1 }] }],
      ['prefill', { targetEndpoints: [{ endpoint: pod3!, score: 1 }] }],
    ]),
  };
  producer.preRequest(first, routed, cs);

  const second = makeRequest({ prompt: 'aaaabbbb' });
  cs = new MapCycleState();
  producer.produce(second, pods, cs);
  assert.deepEqual(Array.from(scorer.score(cs, second, pods)), [0.5, 0, 0.5]);
});
