import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../../src/framework/endpoint.js';
import type {
  Filter,
  Picker,
  ProfileHandler,
  ProfileResults,
  SchedulerProfile,
  ScoredEndpoint,
  Scorer,
} from '../../src/framework/scheduling.js';
import { ProfileScheduler } from '../../src/scheduling/scheduler.js';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import type { SchedulingObserver } from '../../src/scheduling/observer.js';
import { EppError, ErrorCodes } from '../../src/errors.js';
import { makeEndpoint, makeRequest } from '../helpers/fixtures.js';

const fixedScorer = (name: string, scores: number[]): Scorer => ({
  type: 'fixed-scorer',
  name,
  category: 'distribution',
  score: () => scores,
});

/** Keeps every endpoint's score so tests can read the merged totals. */
class RecordingPicker implements Picker {
  readonly type = 'recording-picker';
  readonly name = 'recording-picker';
  seen: ScoredEndpoint[] = [];
  pick(_cs: unknown, scored: readonly ScoredEndpoint[]) {
    this.seen = [...scored];
    const best = [...scored].sort((a, b) => b.score - a.score)[0];
    return { targetEndpoints: best ? [best] : [] };
  }
}

const dropAll: Filter = { type: 'drop-all', name: 'drop-all', filter: () => [] };
const keepFirstTwo: Filter = { type: 'keep', name: 'keep', filter: (_c, _r, eps) => eps.slice(0, 2) };

/** Runs each profile in `rounds` in turn, one round per pick call; fails when the primary has no result. */
function scriptedHandler(rounds: string[][], primary: string): ProfileHandler & { calls: ProfileResults[] } {
  const calls: ProfileResults[] = [];
  return {
    type: 'scripted-handler',
    name: 'scripted-handler',
    calls,
    pick(_req, profiles, resultsSoFar) {
      calls.push(new Map(resultsSoFar));
      const round = rounds[calls.length - 1] ?? [];
      return round.map((n) => profiles.get(n) ?? ({ name: n } as SchedulerProfile));
    },
    processResults(_req, results) {
      if (!results.get(primary)) throw new EppError(ErrorCodes.NO_CAPACITY, `failed to run scheduler profile "${primary}"`);
      return { profileResults: results, primaryProfileName: primary };
    },
  };
}

const pods = (): Endpoint[] => ['a', 'b', 'c', 'd'].map((name) => makeEndpoint({ name }));

test('merge clamps each score to [0,1] (NaN, negative and missing count 0) and applies weights', () => {
  const picker = new RecordingPicker();
  const profile: SchedulerProfile = {
    name: 'default',
    filters: [],
    scorers: [
      { scorer: fixedScorer('s1', [2, -1, Number.NaN, 0.5]), weight: 2 },
      { scorer: fixedScorer('s2', [0.25, 0.5, 1]), weight: 1 }, // last endpoint missing
    ],
    picker,
  };
  const scheduler = new ProfileScheduler({ profileHandler: scriptedHandler([['default']], 'default'), profiles: [profile] });
  const result = scheduler.scheduleSync(makeRequest(), pods(), new MapCycleState());
  assert.deepEqual(picker.seen.map((s) => s.score), [2.25, 0.5, 1, 1]);
  assert.equal(result.primaryProfileName, 'default');
  assert.equal(result.profileResults.get('default')?.targetEndpoints[0]?.endpoint.metadata.name, 'a');
});

test('filters run in order and scorers see only what the filters kept', () => {
  let scoredCount = -1;
  const counting: Scorer = { type: 'count', name: 'count', category: 'balance', score: (_c, _r, eps) => ((scoredCount = eps.length), new Array(eps.length).fill(1)) };
  const picker = new RecordingPicker();
  const profile: SchedulerProfile = { name: 'p', filters: [keepFirstTwo], scorers: [{ scorer: counting, weight: 1 }], picker };
  new ProfileScheduler({ profileHandler: scriptedHandler([['p']], 'p'), profiles: [profile] }).schedule(makeRequest(), pods(), new MapCycleState());
  assert.equal(scoredCount, 2);
  assert.deepEqual(picker.seen.map((s) => s.endpoint.metadata.name), ['a', 'b']);
});

test('a filter that empties the set fails the profile with a message naming the filter', () => {
  const profile: SchedulerProfile = { name: 'p', filters: [dropAll], scorers: [], picker: new RecordingPicker() };
  const scheduler = new ProfileScheduler({ profileHandler: scriptedHandler([['p']], 'p'), profiles: [profile] });
  assert.throws(
    () => scheduler.schedule(makeRequest(), pods(), new MapCycleState()),
    (err: unknown) =>
      err instanceof EppError &&
      err.code === ErrorCodes.NO_CAPACITY &&
      err.message.includes('no endpoints available for the given request') &&
      err.message.includes('"drop-all"'),
  );
});

test('no candidates at all fails the profile even without filters', () => {
  const profile: SchedulerProfile = { name: 'p', filters: [], scorers: [], picker: new RecordingPicker() };
  const scheduler = new ProfileScheduler({ profileHandler: scriptedHandler([['p']], 'p'), profiles: [profile] });
  assert.throws(
    () => scheduler.schedule(makeRequest(), [], new MapCycleState()),
    (err: unknown) => err instanceof EppError && err.code === ErrorCodes.NO_CAPACITY && err.message.endsWith('profile "p": no endpoints available for the given request'),
  );
});

test('the handler is called until it returns no profiles, and sees the results so far', () => {
  const mk = (name: string): SchedulerProfile => ({ name, filters: [], scorers: [], picker: new RecordingPicker() });
  const handler = scriptedHandler([['decode'], ['prefill', 'encode'], []], 'decode');
  const result = new ProfileScheduler({ profileHandler: handler, profiles: [mk('decode'), mk('prefill'), mk('encode')] }).scheduleSync(
    makeRequest(),
    pods(),
    new MapCycleState(),
  );
  assert.equal(handler.calls.length, 3);
  assert.deepEqual([...handler.calls[0]!.keys()], []);
  assert.deepEqual([...handler.calls[1]!.keys()], ['decode']);
  assert.deepEqual([...handler.calls[2]!.keys()].sort(), ['decode', 'encode', 'prefill']);
  assert.deepEqual([...result.profileResults.keys()].sort(), ['decode', 'encode', 'prefill']);
});

test('errors: no profile ran, unknown profile, a handler that never stops', () => {
  const p: SchedulerProfile = { name: 'p', filters: [], scorers: [], picker: new RecordingPicker() };
  const cases: { name: string; handler: ProfileHandler; message: RegExp }[] = [
    { name: 'no profile ran', handler: scriptedHandler([[]], 'p'), message: /ran no profile/ },
    { name: 'unknown profile', handler: scriptedHandler([['nope']], 'p'), message: /unknown profile "nope"/ },
    { name: 'never stops', handler: scriptedHandler(new Array(1000).fill(['p']), 'p'), message: /did not stop after \d+ rounds/ },
  ];
  for (const c of cases) {
    const scheduler = new ProfileScheduler({ profileHandler: c.handler, profiles: [p] });
    assert.throws(
      () => scheduler.schedule(makeRequest(), pods(), new MapCycleState()),
      (err: unknown) => err instanceof EppError && err.code === ErrorCodes.INTERNAL && c.message.test(err.message),
      c.name,
    );
  }
});

test('every plugin call is timed and every cycle is reported, failed ones too', () => {
  const timed: string[] = [];
  const cycles: boolean[] = [];
  const observer: SchedulingObserver = {
    pluginTimer: (point, plugin) => (s) => {
      assert.ok(s >= 0);
      timed.push(`${point}/${plugin.name}`);
    },
    cycleDone: (_s, ok) => cycles.push(ok),
  };
  const ok: SchedulerProfile = { name: 'ok', filters: [keepFirstTwo], scorers: [{ scorer: fixedScorer('s', [1, 1]), weight: 1 }], picker: new RecordingPicker() };
  new ProfileScheduler({ profileHandler: scriptedHandler([['ok']], 'ok'), profiles: [ok] }, observer).schedule(makeRequest(), pods(), new MapCycleState());
  assert.deepEqual(timed, [
    'ProfilePicker/scripted-handler',
    'Filter/keep',
    'Scorer/s',
    'Picker/recording-picker',
    'ProfilePicker/scripted-handler',
    'ProcessProfilesResults/scripted-handler',
  ]);
  const bad: SchedulerProfile = { name: 'bad', filters: [dropAll], scorers: [], picker: new RecordingPicker() };
  assert.throws(() =>
    new ProfileScheduler({ profileHandler: scriptedHandler([['bad']], 'bad'), profiles: [bad] }, observer).schedule(makeRequest(), pods(), new MapCycleState()),
  );
  assert.deepEqual(cycles, [true, false]);
});
