/** probabilistic-admitter: who is always admitted, the shedding probability, parameters. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProbabilisticAdmitter, DEFAULTS, registration } from '../../src/plugins/probabilistic-admitter/index.js';
import { ConfigError } from '../../src/errors.js';
import { makeEndpoint, makeRequest, testHandle } from '../helpers/fixtures.js';

const fixed = (x: number) => ({ next: () => x });
const pods = (...specs: { queue: number; kv: number }[]) => specs.map((s, i) => makeEndpoint({ name: `p${i}`, queue: s.queue, kv: s.kv, updateTime: 1 }));

test('probabilistic-admitter decisions', () => {
  const cases: { name: string; priority: number; candidates: ReturnType<typeof pods>; draw: number; admitted: boolean }[] = [
    { name: 'priority 0 is always admitted', priority: 0, candidates: pods({ queue: 50, kv: 1 }), draw: 0, admitted: true },
    { name: 'no candidates: admitted', priority: -1, candidates: [], draw: 0, admitted: true },
    { name: 'idle pool: p = 0', priority: -1, candidates: pods({ queue: 0, kv: 0 }), draw: 0, admitted: true },
    { name: 'saturation 0.15: p ≈ 0.0228, a draw below it sheds', priority: -1, candidates: pods({ queue: 0, kv: 0.12 }), draw: 0.02, admitted: false },
    { name: 'saturation 0.15: a draw above it passes', priority: -1, candidates: pods({ queue: 0, kv: 0.12 }), draw: 0.03, admitted: true },
    { name: 'saturation past 0.34: always shed', priority: -5, candidates: pods({ queue: 2, kv: 0 }, { queue: 0, kv: 0.4 }), draw: 0.999, admitted: false },
    { name: 'a pod never scraped counts as full', priority: -1, candidates: [makeEndpoint({ name: 'new' })], draw: 0.999, admitted: false },
  ];
  for (const c of cases) {
    const a = new ProbabilisticAdmitter('pa', DEFAULTS, fixed(c.draw));
    const v = a.admit(makeRequest({ priority: c.priority }), c.candidates);
    assert.equal(v.admitted, c.admitted, c.name);
    if (!v.admitted) assert.match(v.reason, /^rejected, saturation=\d\.\d{3} prob=\d\.\d{2}$/);
  }
  assert.equal(new ProbabilisticAdmitter('pa', DEFAULTS, fixed(0)).saturation(pods({ queue: 5, kv: 0 }, { queue: 0, kv: 0.4 })), 0.75);
});

test('probabilistic-admitter parameters: bad values are ConfigErrors naming the parameter', () => {
  for (const [params, message] of [
    [{ power: 0 }, /^parameters\.power: must be > 0/],
    [{ k: -1 }, /^parameters\.k: must be > 0/],
    [{ queueDepthThreshold: 0 }, /^parameters\.queueDepthThreshold: must be a positive integer/],
    [{ kvCacheUtilThreshold: 'x' }, /^parameters\.kvCacheUtilThreshold: must be a number > 0/],
  ] as const) {
    assert.throws(() => registration.factory('pa', params, testHandle()), (e: unknown) => e instanceof ConfigError && message.test(e.message), JSON.stringify(params));
  }
});
