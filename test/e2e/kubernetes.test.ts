/**
 * End-to-end on Kubernetes discovery: a real EPP started with --pool-name (no discovery in the config)
 * against the fake API server, model servers on loopback addresses sharing the pool's target port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { startEpp } from '../../src/epp.js';
import { parseArgs } from '../../src/cli.js';
import { createLogger } from '../../src/observability/logger.js';
import { DEFAULT_CONFIG_TEXT } from '../../src/config/defaults.js';
import { crdPath, FakeKubeApi, pod, podsPath, poolV1 } from '../helpers/fake-kube-api.js';
import { chat, destinationOf, requestBody, requestHeaders, Stream, streamedRequestBody } from '../helpers/ext-proc-harness.js';
import { loopbackModelServers } from '../helpers/loopback-servers.js';
import { until } from '../helpers/until.js';

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}
const gauge = (text: string, name: string) => Number(text.match(new RegExp(`^${name}\\{name="pool"\\} (\\S+)$`, 'm'))?.[1] ?? NaN);

test('e2e: --pool-name without a discovery plugin discovers the InferencePool pods; routing and pool gauges follow them', async () => {
  const api = await FakeKubeApi.start();
  api.serve('inference.networking.k8s.io', 'v1', 'inferencepools');
  api.serve('llm-d.ai', 'v1alpha2', 'inferencemodelrewrites');
  const servers = await loopbackModelServers(2);
  const [ipA, ipB] = servers.ips as [string, string];
  api.put(crdPath('inference.networking.k8s.io', 'v1', 'ml', 'inferencepools'), poolV1('pool', { app: 'vllm' }, [servers.port]));
  api.put(podsPath('ml'), pod('a', { ip: ipA }));
  api.put(podsPath('ml'), pod('b', { ip: ipB }));
  const args = ['--config-text', DEFAULT_CONFIG_TEXT, '--pool-name', 'pool', '--pool-namespace', 'ml', '--kubeconfig', api.kubeconfig('ml'), '--secure-serving=false', '--metrics-endpoint-auth=false', '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0', '--refresh-metrics-interval=10ms'];
  const epp = await startEpp(parseArgs(args), createLogger(0, { write: () => true } as unknown as NodeJS.WritableStream), { host: '127.0.0.1' });
  const client = new grpc.Client(`127.0.0.1:${epp.grpcPort}`, grpc.credentials.createInsecure());
  try {
    assert.equal(epp.dataLayer.discovery?.type, 'k8s-discovery');
    await until(async () => gauge(await metricsText(epp.metricsPort), 'inference_pool_ready_pods') === 2, 'two ready pods in the gauge');
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const s = new Stream(client).send(requestHeaders({})).send(requestBody(chat('m', { messages: [{ role: 'user', content: `hello ${i}` }] })));
      seen.add(destinationOf(await s.responses(2))!);
      s.cancel();
    }
    for (const d of seen) assert.ok(d === `${ipA}:${servers.port}` || d === `${ipB}:${servers.port}`, d);

    api.put(podsPath('ml'), pod('b', { ip: ipB, ready: false }));
    const t0 = Date.now();
    await until(async () => gauge(await metricsText(epp.metricsPort), 'inference_pool_ready_pods') === 1, 'the gauge drops to 1');
    assert.ok(Date.now() - t0 < 3000, 'within seconds');
    for (let i = 0; i < 4; i++) {
      const s = new Stream(client).send(requestHeaders({})).send(requestBody(chat('m')));
      assert.equal(destinationOf(await s.responses(2)), `${ipA}:${servers.port}`, 'only the ready pod is picked');
      s.cancel();
    }

    // An InferenceModelRewrite created in the cluster applies to the next request.
    api.put(crdPath('llm-d.ai', 'v1alpha2', 'ml', 'inferencemodelrewrites'), {
      apiVersion: 'llm-d.ai/v1alpha2',
      kind: 'InferenceModelRewrite',
      metadata: { name: 'food' },
      spec: { poolRef: { group: 'inference.networking.k8s.io', name: 'pool' }, rules: [{ matches: [{ model: { value: 'food-review' } }], targets: [{ modelRewrite: 'food-review-v2' }] }] },
    });
    await until(async () => {
      const s = new Stream(client).send(requestHeaders({})).send(requestBody(chat('food-review')));
      const body = streamedRequestBody(await s.responses(2));
      s.cancel();
      return JSON.parse(body).model === 'food-review-v2';
    }, 'the rewrite from the cluster applied');
  } finally {
    client.close();
    await epp.close();
    await servers.close();
    await api.close();
  }
});

test('e2e: Kubernetes flags are checked at start: both modes at once, a bad selector, a missing CRD', async () => {
  assert.throws(() => parseArgs(['--pool-name', 'p', '--endpoint-selector', 'a=b']), /only one of --pool-name and --endpoint-selector/);
  assert.throws(() => parseArgs(['--endpoint-target-ports', '80, 81']), /--endpoint-target-ports: invalid value/);
  const log = createLogger(0, { write: () => true } as unknown as NodeJS.WritableStream);
  const base = ['--secure-serving=false', '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0'];
  await assert.rejects(startEpp(parseArgs([...base, '--endpoint-selector', 'app in (a', '--endpoint-target-ports', '8000']), log), /--endpoint-selector: cannot parse requirement/);
  await assert.rejects(startEpp(parseArgs([...base, '--endpoint-selector', 'app=a']), log), /--endpoint-target-ports: standalone mode \(--endpoint-selector\) needs 1 to 8 target ports/);
  const api = await FakeKubeApi.start();
  try {
    await assert.rejects(startEpp(parseArgs([...base, '--pool-name', 'p', '--kubeconfig', api.kubeconfig()]), log), /is the InferencePool CRD installed\?/);
  } finally {
    await api.close();
  }
});

test('e2e: --metrics-endpoint-auth (on by default with Kubernetes): 401 without or with a bad token, 403 without RBAC, 200 with it; reviews cached', async () => {
  const api = await FakeKubeApi.start();
  api.serve('inference.networking.k8s.io', 'v1', 'inferencepools');
  api.put(crdPath('inference.networking.k8s.io', 'v1', 'ml', 'inferencepools'), poolV1('pool', { app: 'vllm' }, [8000]));
  api.tokens.set('prometheus-token', { username: 'system:serviceaccount:monitoring:prometheus' });
  api.tokens.set('stranger-token', { username: 'system:serviceaccount:default:stranger' });
  api.metricsReaders.add('system:serviceaccount:monitoring:prometheus');
  const args = ['--config-text', DEFAULT_CONFIG_TEXT, '--pool-name', 'pool', '--pool-namespace', 'ml', '--kubeconfig', api.kubeconfig('ml'), '--secure-serving=false', '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0'];
  const epp = await startEpp(parseArgs(args), createLogger(0, { write: () => true } as unknown as NodeJS.WritableStream), { host: '127.0.0.1' });
  const get = (token?: string) => fetch(`http://127.0.0.1:${epp.metricsPort}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  try {
    const cases: [string | undefined, number, RegExp][] = [
      [undefined, 401, /bearer token is required/],
      ['forged', 401, /token was not accepted/],
      ['stranger-token', 403, /Forbidden: user "system:serviceaccount:default:stranger" may not get \/metrics/],
      ['prometheus-token', 200, /^# HELP /m],
    ];
    for (const [token, status, body] of cases) {
      const r = await get(token);
      assert.equal(r.status, status, String(token));
      assert.match(await r.text(), body, String(token));
    }
    const reviews = api.tokenReviews + api.accessReviews;
    for (let i = 0; i < 5; i++) assert.equal((await get('prometheus-token')).status, 200);
    assert.equal(api.tokenReviews + api.accessReviews, reviews, 'answers cached: no more reviews');
    api.failNext('POST', /tokenreviews$/, 500);
    assert.equal((await get('new-token')).status, 500, 'the API server failing is a 500, not an open door');
  } finally {
    await epp.close();
    await api.close();
  }
  // Off in file-discovery mode (the quick start): /metrics stays open.
  const open = await startEpp(parseArgs(['--secure-serving=false', '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0']), createLogger(0, { write: () => true } as unknown as NodeJS.WritableStream), { host: '127.0.0.1' });
  try {
    assert.equal((await fetch(`http://127.0.0.1:${open.metricsPort}/metrics`)).status, 200);
  } finally {
    await open.close();
  }
});
