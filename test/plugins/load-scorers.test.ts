/** queue-scorer, running-requests-size-scorer, kv-cache-utilization-scorer, token-load-scorer: table-driven. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Scorer } from '../../src/framework/scheduling.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { registration as queue } from '../../src/plugins/queue-scorer/index.js';
import { registration as running } from '../../src/plugins/running-requests-size-scorer/index.js';
import { registration as kv, legacyRegistration as kvLegacy } from '../../src/plugins/kv-cache-utilization-scorer/index.js';
import { registration as tokenLoad } from '../../src/plugins/token-load-scorer/index.js';
import { ConfigError } from '../../src/errors.js';
import { makeEndpoint, makeRequest, testHandle, type EndpointSpec } from '../helpers/fixtures.js';

interface Case {
  name: string;
  scorer: Scorer;
  pods: Omit<EndpointSpec, 'name'>[];
  /** Requests this EPP dispatched to pod i (not yet scraped), and their prompt tokens. */
  dispatched?: { pod: number; tokens: number }[];
  want: number[];
}

const make = (r: typeof queue, params?: unknown) => r.factory(r.type, params, testHandle()) as Scorer;

const cases: Case[] = [
  { name: 'queue: min/max normalised', scorer: make(queue), pods: [{ queue: 0 }, { queue: 5 }, { queue: 10 }], want: [1, 0.5, 0] },
  { name: 'queue: all equal → 1', scorer: make(queue), pods: [{ queue: 3 }, { queue: 3 }], want: [1, 1] },
  { name: 'queue: single endpoint → 1', scorer: make(queue), pods: [{ queue: 9 }], want: [1] },
  {
    name: 'queue: unscraped dispatches count as queued',
    scorer: make(queue),
    pods: [{ queue: 0 }, { queue: 0 }, { queue: 1 }],
    dispatched: [{ pod: 0, tokens: 10 }, { pod: 0, tokens: 10 }],
    want: [0, 1, 0.5],
  },
  { name: 'running: min/max normalised', scorer: make(running), pods: [{ running: 4 }, { running: 8 }, { running: 0 }], want: [0.5, 0, 1] },
  {
    name: 'running: unscraped dispatches count as running',
    scorer: make(running),
    pods: [{ running: 1 }, { running: 2 }],
    dispatched: [{ pod: 0, tokens: 1 }, { pod: 0, tokens: 1 }],
    want: [0, 1],
  },
  { name: 'kv: 1 − usage', scorer: make(kv), pods: [{ kv: 0 }, { kv: 0.25 }, { kv: 1 }], want: [1, 0.75, 0] },
  { name: 'kv: NaN usage scores 0, not 1', scorer: make(kv), pods: [{ kv: Number.NaN }], want: [0] },
  { name: 'kv-cache-scorer (legacy name) behaves the same', scorer: make(kvLegacy), pods: [{ kv: 0.2 }], want: [0.8] },
  {
    name: 'token-load: 1 − in-flight tokens / threshold',
    scorer: make(tokenLoad, { queueThresholdTokens: 1000 }),
    pods: [{}, {}, {}],
    dispatched: [{ pod: 1, tokens: 250 }, { pod: 2, tokens: 900 }, { pod: 2, tokens: 900 }],
    want: [1, 0.75, 0],
  },
  { name: 'token-load: default threshold 4194304', scorer: make(tokenLoad), pods: [{}], dispatched: [{ pod: 0, tokens: 2_097_152 }], want: [0.5] },
];

test('load scorers', () => {
  for (const c of cases) {
    const tracker = new LoadTracker(() => 10);
    const pods = c.pods.map((spec, i) => makeEndpoint({ name: `p${i}`, updateTime: 1, ...spec }, tracker));
    for (const d of c.dispatched ?? []) tracker.reserve(pods[d.pod]!.key, d.tokens);
    const got = Array.from(c.scorer.score(new MapCycleState(), makeRequest(), pods));
    assert.deepEqual(got.map((x) => Math.round(x * 1e9) / 1e9), c.want, c.name);
  }
});

test('token-load-scorer rejects a bad threshold, naming the parameter', () => {
  for (const bad of [0, -5, 'many', Number.NaN]) {
    assert.throws(
      () => make(tokenLoad, { queueThresholdTokens: bad }),
      (e: unknown) => e instanceof ConfigError && e.path === 'parameters.queueThresholdTokens',
      String(bad),
    );
  }
});

test('scorers that take no parameters say so to the loader', () => {
  for (const r of [queue, running, kv, kvLegacy]) assert.equal(r.takesNoParameters, true, r.type);
  assert.notEqual(tokenLoad.takesNoParameters, true);
});
