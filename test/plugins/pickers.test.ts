/** max-score-picker, random-picker, weighted-random-picker: table-driven. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Picker, ScoredEndpoint } from '../../src/framework/scheduling.js';
import type { PluginRegistration } from '../../src/framework/plugin.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { registration as maxScore } from '../../src/plugins/max-score-picker/index.js';
import { registration as random } from '../../src/plugins/random-picker/index.js';
import { registration as weighted } from '../../src/plugins/weighted-random-picker/index.js';
import { ConfigError } from '../../src/errors.js';
import { makeEndpoint, testHandle, testServices } from '../helpers/fixtures.js';

const picker = (r: PluginRegistration, params?: unknown, seed = 1) => r.factory(r.type, params, testHandle(testServices(seed))) as Picker;
const scored = (scores: number[]): ScoredEndpoint[] => scores.map((score, i) => ({ endpoint: makeEndpoint({ name: `p${i}` }), score }));
const names = (r: readonly ScoredEndpoint[]) => r.map((s) => s.endpoint.metadata.name);

test('deterministic picks', () => {
  const cases: { name: string; picker: Picker; scores: number[]; want: string[] }[] = [
    { name: 'max-score: the best', picker: picker(maxScore), scores: [0.2, 0.9, 0.5], want: ['p1'] },
    { name: 'max-score: N best in order', picker: picker(maxScore, { maxNumOfEndpoints: 2 }), scores: [0.2, 0.9, 0.5], want: ['p1', 'p2'] },
    { name: 'max-score: N larger than candidates returns all', picker: picker(maxScore, { maxNumOfEndpoints: 9 }), scores: [0.1, 0.3], want: ['p1', 'p0'] },
    { name: 'weighted: the only positive score always wins', picker: picker(weighted), scores: [0, 0.7, 0], want: ['p1'] },
    { name: 'random: N larger than candidates returns all', picker: picker(random, { maxNumOfEndpoints: 5 }), scores: [1, 1], want: ['p0', 'p1'] },
    { name: 'any picker: no candidates, no target', picker: picker(maxScore), scores: [], want: [] },
  ];
  for (const c of cases) {
    const got = names(c.picker.pick(new MapCycleState(), scored(c.scores)).targetEndpoints);
    assert.deepEqual(c.name.startsWith('random') ? got.sort() : got, c.want, c.name);
  }
});

test('max-score-picker breaks ties at random and never mutates its input', () => {
  for (const n of [1, 2]) {
    const p = picker(maxScore, { maxNumOfEndpoints: n }, 7);
    const input = scored([0.5, 0.9, 0.9, 0.9]);
    const before = names(input);
    const firsts = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const got = p.pick(new MapCycleState(), input).targetEndpoints;
      assert.ok(got.every((s) => s.score === 0.9), 'only top scores are picked');
      firsts.add(got[0]!.endpoint.metadata.name);
    }
    assert.deepEqual([...firsts].sort(), ['p1', 'p2', 'p3'], `every tied endpoint wins sometimes (N=${n})`);
    assert.deepEqual(names(input), before);
  }
});

test('max-score-picker: pickTotals (the runner\'s allocation-free path) chooses exactly as pick, draw for draw', () => {
  const cases = [[0.2, 0.9, 0.5], [0.9, 0.9, 0.9, 0.1, 0.9], [], [0], [0.3, 0.3]];
  for (const n of [1, 3]) {
    for (const scores of cases) {
      const [a, b] = [picker(maxScore, { maxNumOfEndpoints: n }, 5), picker(maxScore, { maxNumOfEndpoints: n }, 5)];
      const input = scored(scores);
      for (let i = 0; i < 20; i++) {
        const viaPick = a.pick(new MapCycleState(), input).targetEndpoints;
        const viaTotals = b.pickTotals!(new MapCycleState(), input.map((s) => s.endpoint), Float64Array.from(scores)).targetEndpoints;
        assert.deepEqual(viaTotals.map((s) => [s.endpoint.metadata.name, s.score]), viaPick.map((s) => [s.endpoint.metadata.name, s.score]), `${JSON.stringify(scores)} N=${n} #${i}`);
      }
    }
  }
});

test('random and all-zero weighted picks reach every endpoint', () => {
  for (const [label, p] of [['random', picker(random, undefined, 3)], ['weighted, all zero', picker(weighted, undefined, 3)]] as const) {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(names(p.pick(new MapCycleState(), scored([0, 0, 0, 0])).targetEndpoints)[0]!);
    assert.equal(seen.size, 4, label);
  }
});

test('weighted-random-picker follows the weights', () => {
  const p = picker(weighted, undefined, 11);
  const counts = [0, 0, 0];
  const draws = 6000;
  for (let i = 0; i < draws; i++) counts[Number(names(p.pick(new MapCycleState(), scored([0.1, 0.3, 0.6])).targetEndpoints)[0]!.slice(1))]!++;
  const share = counts.map((c) => c / draws);
  assert.ok(Math.abs(share[0]! - 0.1) < 0.03 && Math.abs(share[1]! - 0.3) < 0.04 && Math.abs(share[2]! - 0.6) < 0.04, JSON.stringify(share));
  const two = picker(weighted, { maxNumOfEndpoints: 2 }, 5).pick(new MapCycleState(), scored([0.1, 0.3, 0.6])).targetEndpoints;
  assert.equal(new Set(names(two)).size, 2, 'without replacement');
});

test('same seed, same picks: randomness goes through the injected source', () => {
  const run = (seed: number) => Array.from({ length: 20 }, (_, i) => names(picker(random, undefined, seed).pick(new MapCycleState(), scored([1, 1, 1, 1, 1])).targetEndpoints)[0] + String(i));
  assert.deepEqual(run(42), run(42));
});

test('maxNumOfEndpoints must be a positive integer', () => {
  for (const r of [maxScore, random, weighted]) {
    for (const bad of [0, -1, 1.5, '2']) {
      assert.throws(
        () => picker(r, { maxNumOfEndpoints: bad }),
        (e: unknown) => e instanceof ConfigError && e.message === `parameters.maxNumOfEndpoints: must be a positive integer, got ${JSON.stringify(bad)}`,
        `${r.type} ${String(bad)}`,
      );
    }
  }
});

test('max-score-picker: each tied maximum is equally likely (one pick, 3,000 draws)', () => {
  const p = picker(maxScore, undefined, 11);
  const input = scored([0.9, 0.2, 0.9, 0.9, 0.5]);
  const wins = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const name = names(p.pick(new MapCycleState(), input).targetEndpoints)[0]!;
    wins.set(name, (wins.get(name) ?? 0) + 1);
  }
  assert.deepEqual([...wins.keys()].sort(), ['p0', 'p2', 'p3']);
  for (const [name, n] of wins) assert.ok(n > 850 && n < 1150, `${name} won ${n} of 3,000 (uniform: 1,000)`);
});
