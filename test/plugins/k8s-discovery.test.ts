/** k8s-discovery: the pure rules table-driven, then the plugin against a fake API server over real HTTP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointMetadata } from '../../src/framework/endpoint.js';
import { endpointKey, type DiscoverySink } from '../../src/framework/discovery.js';
import { endpointsOf, podServes, poolSpecOf } from '../../src/plugins/k8s-discovery/pool.js';
import { K8sDiscovery, registration, targetFrom, type K8sDiscoveryTarget } from '../../src/plugins/k8s-discovery/index.js';
import { parseLabelSelector } from '../../src/kube/label-selector.js';
import { ConfigError } from '../../src/errors.js';
import { crdPath, FakeKubeApi, pod, podsPath, poolV1, poolV1alpha2 } from '../helpers/fake-kube-api.js';
import { until } from '../helpers/until.js';

test('podServes: Running, Ready, not terminating, with an IP', () => {
  const cases: [string, Parameters<typeof pod>[1], boolean][] = [
    ['running and ready', {}, true],
    ['not ready', { ready: false }, false],
    ['pending', { phase: 'Pending' }, false],
    ['succeeded', { phase: 'Succeeded' }, false],
    ['terminating', { deleting: true }, false],
    ['no IP yet', { ip: '' }, false],
  ];
  for (const [what, o, want] of cases) assert.equal(podServes(pod('p', o) as never), want, what);
});

test('poolSpecOf reads v1 and v1alpha2 shapes and names what is wrong', () => {
  const cases: [string, unknown, string | { sel: string; ports: number[] }][] = [
    ['v1', poolV1('p', { app: 'vllm' }, [8000, 8001]), { sel: 'app=vllm', ports: [8000, 8001] }],
    ['v1alpha2', poolV1alpha2('p', { app: 'x', tier: 'a' }, 9000), { sel: 'app=x,tier=a', ports: [9000] }],
    ['duplicate ports collapse', poolV1('p', { a: 'b' }, [8000, 8000]), { sel: 'a=b', ports: [8000] }],
    ['no labels', poolV1('p', {}, [8000]), 'spec.selector selects nothing (no labels)'],
    ['no ports', poolV1('p', { a: 'b' }, []), 'spec.targetPorts is empty'],
    ['bad port', poolV1('p', { a: 'b' }, [70000]), 'spec.targetPorts has an invalid port 70000'],
  ];
  for (const [what, obj, want] of cases) {
    const got = poolSpecOf(obj as never);
    if (typeof want === 'string') assert.equal(got, want, what);
    else {
      assert.notEqual(typeof got, 'string', what);
      const spec = got as Exclude<typeof got, string>;
      assert.deepEqual(spec.targetPorts, want.ports, what);
      assert.deepEqual(spec.selector, parseLabelSelector(want.sel), what);
    }
  }
});

test('endpointsOf: one endpoint per target port, ranked, honouring the active-ports annotation', () => {
  const cases: [string, Parameters<typeof pod>[1], number[], string[]][] = [
    ['one port', { ip: '10.0.0.1' }, [8000], ['p-rank-0@10.0.0.1:8000']],
    ['two ports', { ip: '10.0.0.1' }, [8000, 8001], ['p-rank-0@10.0.0.1:8000', 'p-rank-1@10.0.0.1:8001']],
    ['active-ports keeps the rank', { ip: '10.0.0.1', annotations: { 'llm-d.ai/active-ports': '8001' } }, [8000, 8001], ['p-rank-1@10.0.0.1:8001']],
    ['legacy annotation', { ip: '10.0.0.1', annotations: { 'inference.networking.k8s.io/active-ports': '8000, 9999' } }, [8000, 8001], ['p-rank-0@10.0.0.1:8000']],
    ['not ready: none', { ready: false }, [8000], []],
  ];
  for (const [what, o, ports, want] of cases) {
    const got = endpointsOf({ ...pod('p', o), metadata: { ...pod('p', o).metadata, namespace: 'ml' } } as never, ports);
    assert.deepEqual(got.map((e) => `${e.name}@${e.address}:${e.port}`), want, what);
    for (const e of got) assert.equal(e.namespace, 'ml');
  }
});

test('endpointsOf: the node address is the pod\'s hostIP (for DaemonSet exporters such as DCGM), absent when unknown', () => {
  const withHost = pod('p', { ip: '10.0.0.1' }) as { status: Record<string, unknown> };
  withHost.status['hostIP'] = '192.168.1.7';
  assert.deepEqual(endpointsOf(withHost as never, [8000, 8001]).map((e) => e.nodeAddress), ['192.168.1.7', '192.168.1.7']);
  assert.equal('nodeAddress' in endpointsOf(pod('p', { ip: '10.0.0.1' }) as never, [8000])[0]!, false);
});

test('targetFrom: exactly one mode, flags named when they are the source', () => {
  assert.deepEqual(targetFrom({ poolName: 'p', poolNamespace: 'ml' }), { mode: 'pool', namespace: 'ml', poolName: 'p', poolGroup: 'inference.networking.k8s.io' });
  const s = targetFrom({ endpointSelector: 'app=vllm', endpointTargetPorts: '8000,8001', poolNamespace: 'ml' });
  assert.equal(s.mode, 'standalone');
  const bad: [Record<string, unknown>, boolean, RegExp][] = [
    [{}, false, /exactly one of parameters.poolName and parameters.endpointSelector/],
    [{ poolName: 'p', endpointSelector: 'a=b' }, true, /exactly one of --pool-name and --endpoint-selector/],
    [{ poolName: 'p', poolGroup: 'example.com' }, true, /^--pool-group: must be inference.networking.k8s.io/],
    [{ endpointSelector: 'app=vllm' }, true, /^--endpoint-target-ports: standalone mode/],
    [{ endpointSelector: 'app=vllm', endpointTargetPorts: [0] }, false, /^parameters.endpointTargetPorts: must be a list of ports/],
    [{ endpointSelector: 'app in (a', endpointTargetPorts: '8000' }, true, /^--endpoint-selector: /],
  ];
  for (const [p, flags, re] of bad) assert.throws(() => targetFrom(p, flags), (e: unknown) => e instanceof ConfigError && re.test(e.message), JSON.stringify(p));
  assert.throws(() => registration.factory('d', { poolName: 'p', kubeconfig: 3 }, { warn: () => {}, plugin: () => undefined, services: {} as never }), /parameters.kubeconfig/);
});

class RecordingSink implements DiscoverySink {
  readonly endpoints = new Map<string, EndpointMetadata>();
  isReady = false;
  upsert(e: EndpointMetadata): void {
    this.endpoints.set(endpointKey(e), e);
  }
  delete(key: string): void {
    this.endpoints.delete(key);
  }
  ready(): void {
    this.isReady = true;
  }
  get view(): string[] {
    return [...this.endpoints.values()].map((e) => `${e.name}@${e.address}:${e.port}`).sort();
  }
}

const POOLS = crdPath('inference.networking.k8s.io', 'v1', 'ml', 'inferencepools');

async function setup(target: K8sDiscoveryTarget = { mode: 'pool', namespace: 'ml', poolName: 'pool', poolGroup: 'inference.networking.k8s.io' }) {
  const api = await FakeKubeApi.start();
  api.serve('inference.networking.k8s.io', 'v1', 'inferencepools');
  const kubeconfig = api.kubeconfig('ml');
  const warnings: string[] = [];
  const discovery = new K8sDiscovery('k8s', { target, kubeconfig, log: { warn: (m: string) => warnings.push(m), info: () => {} }, backoff: { initialMs: 20, maxMs: 200 } } as never);
  const sink = new RecordingSink();
  return { api, discovery, sink, warnings, close: async () => (await discovery.stop(), await api.close()) };
}

test('k8s-discovery follows the pool and its pods through list and watch', async () => {
  const t = await setup();
  try {
    t.api.put(POOLS, poolV1('pool', { app: 'vllm' }, [8000]));
    t.api.put(POOLS, poolV1('other-pool', { app: 'other' }, [9000]));
    t.api.put(podsPath('ml'), pod('a', { ip: '10.0.0.1' }));
    t.api.put(podsPath('ml'), pod('b', { ip: '10.0.0.2', ready: false }));
    t.api.put(podsPath('ml'), pod('c', { ip: '10.0.0.3', labels: { app: 'other' } }));
    t.api.put(podsPath('other'), pod('d', { ip: '10.0.0.4' }));
    await t.discovery.start(t.sink);
    await until(() => t.sink.isReady, 'ready after the first complete view');
    assert.deepEqual(t.sink.view, ['a-rank-0@10.0.0.1:8000']);
    assert.equal(t.api.requests.find((r) => r.path === podsPath('ml') && r.query.get('watch') !== 'true')?.query.get('labelSelector'), 'app=vllm', 'the pool selector goes to the server');

    t.api.put(podsPath('ml'), pod('b', { ip: '10.0.0.2' }));
    await until(() => t.sink.view.length === 2, 'b became ready');
    t.api.put(podsPath('ml'), pod('a', { ip: '10.0.0.1', deleting: true }));
    await until(() => t.sink.view.join() === 'b-rank-0@10.0.0.2:8000', 'a terminating leaves');
    t.api.put(podsPath('ml'), pod('b', { ip: '10.0.0.2', labels: { app: 'gone' } }));
    await until(() => t.sink.view.length === 0, 'b relabelled out of the selector');

    // The pool grows a port, then switches selector: the pod watch restarts with the new selector.
    t.api.put(podsPath('ml'), pod('e', { ip: '10.0.0.5' }));
    t.api.put(POOLS, poolV1('pool', { app: 'vllm' }, [8000, 8001]));
    await until(() => t.sink.view.join() === 'e-rank-0@10.0.0.5:8000,e-rank-1@10.0.0.5:8001', 'two ports');
    t.api.put(POOLS, poolV1('pool', { app: 'other' }, [8000]));
    await until(() => t.sink.view.join() === 'c-rank-0@10.0.0.3:8000', 'selector switched to app=other');

    t.api.remove(POOLS, 'pool');
    await until(() => t.sink.view.length === 0, 'pool deleted: empty');
    assert.ok(t.warnings.some((w) => /InferencePool ml\/pool is gone/.test(w)));
    t.api.put(POOLS, poolV1('pool', { app: 'vllm' }, [8000]));
    await until(() => t.sink.view.join() === 'e-rank-0@10.0.0.5:8000', 'pool back');
  } finally {
    await t.close();
  }
});

test('k8s-discovery: a closed watch resumes from its resourceVersion; 410 Gone relists; failures back off and retry', async () => {
  const t = await setup();
  try {
    t.api.put(POOLS, poolV1('pool', { app: 'vllm' }, [8000]));
    t.api.put(podsPath('ml'), pod('a', { ip: '10.0.0.1' }));
    await t.discovery.start(t.sink);
    await until(() => t.sink.view.length === 1 && t.api.openWatches === 2, 'synced and watching');
    const podLists = () => t.api.count('GET', /\/pods$/, false);
    const podWatches = () => t.api.count('GET', /\/pods$/, true);
    assert.equal(podLists(), 1);

    // The server closes the watches: resumed from the last version, no relist, nothing missed.
    const rvBefore = t.api.resourceVersion;
    t.api.closeWatches();
    t.api.put(podsPath('ml'), pod('b', { ip: '10.0.0.2' }));
    await until(() => t.sink.view.length === 2, 'b seen after the watch restarted');
    assert.equal(podLists(), 1, 'no relist for a plain close');
    const resumed = t.api.requests.filter((r) => /\/pods$/.test(r.path) && r.query.get('watch') === 'true').at(-1)!;
    assert.equal(Number(resumed.query.get('resourceVersion')), rvBefore, 'resumed from the last version seen');

    // History compacted while disconnected: the resumed watch gets 410, the reflector lists again.
    await until(() => t.api.openWatches === 2, 'watching again');
    t.api.closeWatches();
    t.api.remove(podsPath('ml'), 'a');
    t.api.compact();
    await until(() => t.sink.view.join() === 'b-rank-0@10.0.0.2:8000', 'a removed, seen through the relist');
    assert.ok(podLists() >= 2, 'relisted after 410');

    // An ERROR 410 event inside an open watch also relists.
    await until(() => t.api.openWatches === 2, 'watching again');
    const lists = podLists();
    t.api.expireWatches();
    await until(() => podLists() > lists, 'relisted after the Expired event');
    t.api.put(podsPath('ml'), pod('c', { ip: '10.0.0.3' }));
    await until(() => t.sink.view.length === 2, 'c seen after the relist');

    // Watches failing with 500 are retried with backoff until one holds.
    await until(() => t.api.openWatches === 2, 'watching again');
    const watches = podWatches();
    t.api.failNext('GET', /\/pods$/, 500, 3);
    t.api.closeWatches();
    await until(() => t.api.openWatches === 2 && podWatches() >= watches + 4, 'watch re-established after 3 failures', 8000);
    t.api.put(podsPath('ml'), pod('d', { ip: '10.0.0.4' }));
    await until(() => t.sink.view.length === 3, 'd seen');
    assert.ok(t.warnings.some((w) => /watch of pods in ml matching app=vllm failed \(HTTP 500/.test(w) || /failed/.test(w)), t.warnings.join('\n'));
  } finally {
    await t.close();
  }
});

test('k8s-discovery: the v1alpha2 pool shape under --pool-group inference.networking.x-k8s.io', async () => {
  const t = await setup({ mode: 'pool', namespace: 'ml', poolName: 'old', poolGroup: 'inference.networking.x-k8s.io' });
  try {
    t.api.serve('inference.networking.x-k8s.io', 'v1alpha2', 'inferencepools');
    t.api.put(crdPath('inference.networking.x-k8s.io', 'v1alpha2', 'ml', 'inferencepools'), poolV1alpha2('old', { app: 'vllm' }, 8000));
    t.api.put(podsPath('ml'), pod('a', { ip: '10.0.0.1' }));
    await t.discovery.start(t.sink);
    await until(() => t.sink.view.join() === 'a-rank-0@10.0.0.1:8000', 'v1alpha2 pool served');
  } finally {
    await t.close();
  }
});

test('k8s-discovery standalone: pods chosen by --endpoint-selector, ports from --endpoint-target-ports', async () => {
  const t = await setup(targetFrom({ endpointSelector: 'app=vllm,tier in (a,b),!canary', endpointTargetPorts: '8000,8002', poolNamespace: 'ml' }));
  try {
    t.api.put(podsPath('ml'), pod('a', { ip: '10.0.0.1', labels: { app: 'vllm', tier: 'a' } }));
    t.api.put(podsPath('ml'), pod('b', { ip: '10.0.0.2', labels: { app: 'vllm', tier: 'c' } }));
    t.api.put(podsPath('ml'), pod('c', { ip: '10.0.0.3', labels: { app: 'vllm', tier: 'b', canary: 'yes' } }));
    await t.discovery.start(t.sink);
    await until(() => t.sink.isReady, 'ready');
    assert.deepEqual(t.sink.view, ['a-rank-0@10.0.0.1:8000', 'a-rank-1@10.0.0.1:8002']);
    assert.equal(t.api.count('GET', /inferencepools/), 0, 'no CRD needed');
  } finally {
    await t.close();
  }
});

test('k8s-discovery start-up errors name the cause: CRD missing, forbidden', async () => {
  const missing = await setup();
  try {
    missing.api.served.delete('apis/inference.networking.k8s.io/v1/inferencepools');
    await assert.rejects(missing.discovery.start(missing.sink), (e: unknown) => e instanceof ConfigError && /cannot list InferencePools .* not found \(is the InferencePool CRD installed\?/.test(e.message));
  } finally {
    await missing.close();
  }
  const forbidden = await setup();
  try {
    forbidden.api.failNext('GET', /inferencepools$/, 403);
    await assert.rejects(forbidden.discovery.start(forbidden.sink), /forbidden: the EPP's service account needs get, list and watch/);
  } finally {
    await forbidden.close();
  }
  // Unreachable for now: start resolves, readiness waits, the list is retried.
  const flaky = await setup();
  try {
    flaky.api.put(POOLS, poolV1('pool', { app: 'vllm' }, [8000]));
    flaky.api.put(podsPath('ml'), pod('a', { ip: '10.0.0.1' }));
    flaky.api.failNext('GET', /inferencepools$/, 503, 2);
    await flaky.discovery.start(flaky.sink);
    assert.equal(flaky.sink.isReady, false);
    await until(() => flaky.sink.isReady && flaky.sink.view.length === 1, 'ready once the API server answers');
  } finally {
    await flaky.close();
  }
});
