import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Scorer } from '../../src/framework/scheduling.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { registration } from '../../src/plugins/lora-affinity-scorer/index.js';
import { makeEndpoint, makeRequest, testHandle, type EndpointSpec } from '../helpers/fixtures.js';

const cases: { name: string; pod: Omit<EndpointSpec, 'name'>; want: number }[] = [
  { name: 'adapter active', pod: { active: ['sql-lora'], maxLora: 2 }, want: 1 },
  { name: 'active wins even when slots are full', pod: { active: ['a', 'sql-lora'], waiting: ['b'], maxLora: 2 }, want: 1 },
  { name: 'free slot', pod: { active: ['a'], maxLora: 2 }, want: 0.8 },
  { name: 'free slot beats waiting', pod: { waiting: ['sql-lora'], maxLora: 2 }, want: 0.8 },
  { name: 'already waiting to load, no slot', pod: { active: ['a'], waiting: ['sql-lora'], maxLora: 2 }, want: 0.6 },
  { name: 'no slot, not loading', pod: { active: ['a', 'b'], maxLora: 2 }, want: 0 },
  { name: 'no LoRA support (max 0)', pod: {}, want: 0 },
];

test('lora-affinity-scorer', () => {
  const scorer = registration.factory(registration.type, undefined, testHandle()) as Scorer;
  assert.equal(scorer.category, 'affinity');
  for (const c of cases) {
    const [got] = scorer.score(new MapCycleState(), makeRequest({ targetModel: 'sql-lora' }), [makeEndpoint({ name: 'p', ...c.pod })]) as Float64Array;
    assert.equal(got, c.want, c.name);
  }
});
