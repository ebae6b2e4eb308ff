/** topology-extractor, topology-affinity-filter and -scorer: levels, fail-open rules, and llm-d's pd-topology config. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { TopologyAffinityFilter } from '../../src/plugins/topology-affinity-filter/index.js';
import { TopologyAffinityScorer } from '../../src/plugins/topology-affinity-scorer/index.js';
import { defaultTopologySource } from '../../src/plugins/shared/topology.js';
import { PEER_ENDPOINT_KEY, ROLE_LABEL } from '../../src/plugins/shared/disagg.js';
import { registration as filterRegistration } from '../../src/plugins/topology-affinity-filter/index.js';
import { ConfigError } from '../../src/errors.js';
import { cycleFromConfig, llmdSample } from '../helpers/config-cycle.js';
import { makeEndpoint, makeRequest, testHandle } from '../helpers/fixtures.js';

const at = (name: string, host: string, rack: string, zone: string, role = 'prefill', queue = 0) =>
  makeEndpoint({ name, queue, labels: { [ROLE_LABEL]: role, ...(host ? { 'kubernetes.io/hostname': host } : {}), ...(rack ? { 'topology.kubernetes.io/rack': rack } : {}), ...(zone ? { 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/region': 'r1' } : {}) } });

const decode = at('decode', 'h1', 'r1', 'z1', 'decode');
const sameHost = at('same-host', 'h1', 'r1', 'z1');
const sameRack = at('same-rack', 'h2', 'r1', 'z1');
const sameZone = at('same-zone', 'h3', 'r9', 'z1');
const farAway = at('far', 'h4', 'r8', 'z2');
const unknown = makeEndpoint({ name: 'unknown', labels: { [ROLE_LABEL]: 'prefill' } });

test('topology-affinity-filter: keeps candidates at minAffinity or tighter; fails open', () => {
  const cases: { name: string; min: 'host' | 'rack' | 'zone' | 'region'; peer?: typeof decode; candidates: (typeof decode)[]; want: string[] }[] = [
    { name: 'host', min: 'host', peer: decode, candidates: [sameHost, sameRack, farAway], want: ['same-host'] },
    { name: 'rack keeps host and rack', min: 'rack', peer: decode, candidates: [sameHost, sameRack, sameZone, farAway], want: ['same-host', 'same-rack'] },
    { name: 'zone', min: 'zone', peer: decode, candidates: [sameZone, farAway, unknown], want: ['same-zone'] },
    { name: 'nobody close enough: all stay', min: 'host', peer: decode, candidates: [sameRack, farAway], want: ['same-rack', 'far'] },
    { name: 'no decode pick: all stay', min: 'host', candidates: [sameHost, farAway], want: ['same-host', 'far'] },
    { name: 'decode pick of unknown topology: all stay', min: 'host', peer: unknown, candidates: [sameHost, farAway], want: ['same-host', 'far'] },
  ];
  for (const c of cases) {
    const cs = new MapCycleState();
    if (c.peer) cs.write(PEER_ENDPOINT_KEY, c.peer);
    const got = new TopologyAffinityFilter('f', c.min, defaultTopologySource).filter(cs, makeRequest(), c.candidates);
    assert.deepEqual(got.map((e) => e.metadata.name), c.want, c.name);
  }
  assert.throws(() => filterRegistration.factory('f', { minAffinity: 'planet' }, testHandle()), (e: unknown) => e instanceof ConfigError && /^parameters\.minAffinity: must be one of host, rack, zone, region, got "planet"/.test(e.message));
});

test('topology-affinity-scorer: llm-d\'s curve, 0 without a peer or a topology', () => {
  const cs = new MapCycleState();
  cs.write(PEER_ENDPOINT_KEY, decode);
  const s = new TopologyAffinityScorer('s', defaultTopologySource);
  assert.deepEqual([...s.score(cs, makeRequest(), [sameHost, sameRack, sameZone, farAway, unknown])], [1, 0.2, 0.05, 0.02, 0]);
  assert.deepEqual([...s.score(new MapCycleState(), makeRequest(), [sameHost])], [0]);
});

test("llm-d's pd-topology-epp-config.yaml loads unmodified and puts the prefill on the decode pod's host", () => {
  const text = llmdSample('pd-topology-epp-config.yaml');
  const { cycle, warnings } = cycleFromConfig(text);
  assert.deepEqual(warnings, []);
  const pods = [at('decode-a', 'h1', 'r1', 'z1', 'decode', 0), at('decode-b', 'h2', 'r1', 'z1', 'decode', 5), at('prefill-far', 'h9', 'r9', 'z2', 'prefill', 0), at('prefill-near', 'h1', 'r1', 'z1', 'prefill', 3)];
  const out = cycle.runSync(makeRequest({ prompt: 'a long prompt that no pod holds yet. '.repeat(20) }), pods);
  assert.equal(out.result.profileResults.get('decode')?.targetEndpoints[0]?.endpoint.metadata.name, 'decode-a');
  assert.equal(out.result.profileResults.get('prefill')?.targetEndpoints[0]?.endpoint.metadata.name, 'prefill-near', 'same host as the decode pick, though busier');
});
