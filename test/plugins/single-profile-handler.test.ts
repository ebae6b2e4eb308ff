import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProfileHandler, ProfileRunResult, SchedulerProfile } from '../../src/framework/scheduling.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { registration } from '../../src/plugins/single-profile-handler/index.js';
import { EppError, ErrorCodes } from '../../src/errors.js';
import { makeEndpoint, makeRequest, testHandle } from '../helpers/fixtures.js';

const handler = registration.factory(registration.type, undefined, testHandle()) as ProfileHandler;
const profile = { name: 'default' } as SchedulerProfile;
const ok: ProfileRunResult = { targetEndpoints: [{ endpoint: makeEndpoint({ name: 'p' }), score: 1 }] };

test('single-profile-handler: pick runs all profiles once', () => {
  const profiles = new Map([['default', profile]]);
  assert.deepEqual(handler.pick(makeRequest(), profiles, new Map(), new MapCycleState()), [profile]);
  assert.deepEqual(handler.pick(makeRequest(), profiles, new Map([['default', ok]]), new MapCycleState()), []);
});

test('single-profile-handler: processResults', () => {
  const cases: { name: string; results: Map<string, ProfileRunResult | undefined>; code?: string; message?: RegExp }[] = [
    { name: 'one result is primary', results: new Map([['default', ok]]) },
    { name: 'filters left nothing → no capacity', results: new Map([['default', undefined]]), code: ErrorCodes.NO_CAPACITY, message: /failed to run scheduler profile "default"/ },
    { name: 'two results → internal', results: new Map([['a', ok], ['b', ok]]), code: ErrorCodes.INTERNAL, message: /exactly one profile result, got 2/ },
  ];
  for (const c of cases) {
    if (!c.code) {
      assert.equal(handler.processResults(makeRequest(), c.results, new MapCycleState()).primaryProfileName, 'default', c.name);
      continue;
    }
    assert.throws(
      () => handler.processResults(makeRequest(), c.results, new MapCycleState()),
      (e: unknown) => e instanceof EppError && e.code === c.code && c.message!.test(e.message),
      c.name,
    );
  }
});
