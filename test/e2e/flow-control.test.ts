/**
 * Flow control end to end over real gRPC: pods held saturated through their metrics pages, requests
 * queued in the EPP, released when the pages say there is room (or a pod joins), in priority, fairness
 * and deadline order; every way out of the queue with llm-d's status, text and dropped-reason header.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { chat, fakePods, immediate, requestBody, requestHeaders, responseBody, responseHeaders, startTestEpp, Stream, destinationOf, type Pod } from '../helpers/ext-proc-harness.js';
import type { PageSpec } from '../helpers/vllm-page.js';
import type { ProcessingResponse } from '../../src/extproc/codec.js';
import { until } from '../helpers/until.js';

const RESOURCES = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: critical}
spec: {priority: 10}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: standard}
spec: {priority: 0}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: batch}
spec: {priority: -1}
`;

const SATURATED: PageSpec = { waiting: 10, kv: 0.25 };
const FREE: PageSpec = { waiting: 0, kv: 0.25 };

async function flowEpp(o: { flowControl: string; pods: PageSpec[]; plugins?: string; args?: string[] }) {
  const fake = await fakePods(o.pods);
  const config = `featureGates: [flowControl]
plugins:
- type: queue-scorer
${o.plugins ?? ''}schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
flowControl:
${o.flowControl}`;
  const t = await startTestEpp({ endpoints: fake.pods, config, resources: RESOURCES, ...(o.args ? { args: o.args } : {}) });
  const fc = t.epp.flowControl!;
  // The order requests entered the queue and left it, by x-request-id, as the EPP saw it (HTTP/2 may
  // deliver the answers of different streams to the client in another order).
  const admitted: string[] = [];
  const dispatched: string[] = [];
  const admit = fc.admit.bind(fc);
  fc.admit = ((req, dispatch, cancel) => {
    admitted.push(req.requestId);
    return admit(req, () => (dispatched.push(req.requestId), dispatch()), cancel);
  }) as typeof fc.admit;
  return {
    t,
    fc,
    admitted,
    dispatched,
    pods: fake.pods,
    send: (headers: Record<string, string>, options?: grpc.CallOptions) => new Stream(t.client, options).send(requestHeaders(headers)).send(requestBody(chat('m'))),
    metrics: async () => (await fetch(`http://127.0.0.1:${t.epp.metricsPort}/metrics`)).text(),
    close: async () => {
      await t.close();
      await fake.close();
    },
  };
}

/** Answers the response phases so the request ends as a success. */
function finish(s: Stream): void {
  s.send(responseHeaders({ ':status': '200', 'content-type': 'application/json' })).send(responseBody('{}', true));
  s.endSide();
}

function replyHeader(r: ProcessingResponse | undefined, key: string): string | undefined {
  const h = r?.immediateResponse?.headers?.setHeaders?.find((s) => s.header.key === key);
  return h ? Buffer.from(h.header.rawValue!).toString() : undefined;
}

const release = (pod: Pod) => (pod.page = { ...FREE });

test('e2e flow control: strict priority across bands, round-robin between fairness IDs, both header names; metrics while queued', async () => {
  const h = await flowEpp({ flowControl: '  priorityBands:\n  - {priority: 0, fairnessPolicyRef: round-robin-fairness-policy}\n', pods: [SATURATED], plugins: '- type: round-robin-fairness-policy\n' });
  try {
    const streams: [string, Stream][] = [];
    // Each request waits to be queued before the next is sent, so the queue order is the send order.
    const send = async (name: string, headers: Record<string, string>) => {
      streams.push([name, h.send({ ...headers, 'x-request-id': name })]);
      await until(() => h.fc.queued === streams.length, `${name} queued`);
    };
    for (const name of ['a1', 'a2', 'a3']) await send(name, { 'x-llm-d-inference-objective': 'standard', 'x-llm-d-inference-fairness-id': 'tenant-a' });
    for (const name of ['b1', 'b2', 'b3']) await send(name, { 'x-gateway-inference-objective': 'standard', 'x-gateway-inference-fairness-id': 'tenant-b' });
    for (const name of ['c1', 'c2']) await send(name, { 'x-llm-d-inference-objective': 'critical', 'x-llm-d-inference-fairness-id': 'tenant-a' });
    const text = await h.metrics();
    assert.match(text, /llm_d_epp_flow_control_queue_size\{fairness_id="tenant-a",priority="0",inference_pool="default",model_name="m",target_model_name="m"\} 3/);
    assert.match(text, /llm_d_epp_flow_control_queue_size\{fairness_id="tenant-b",priority="0",[^}]*\} 3/);
    assert.match(text, /inference_extension_flow_control_queue_size\{fairness_id="tenant-a",priority="10",[^}]*\} 2/);
    assert.match(text, /llm_d_epp_flow_control_pool_saturation\{inference_pool="default",stage="effective"\} 2/);
    assert.ok(streams.every(([, s]) => s.received.length === 0), 'nothing is routed while the pod is saturated');

    release(h.pods[0]!);
    await until(() => streams.every(([, s]) => s.firstResponse > 0), 'every request routed');
    assert.deepEqual(h.dispatched, ['c1', 'c2', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
    for (const [, s] of streams) assert.equal(destinationOf(s.received), h.pods[0]!.hostPort);
    for (const [, s] of streams) finish(s);
    await until(() => h.t.epp.extProc.openStreams === 0 && h.t.epp.tracker.totalInFlight() === 0, 'every request ended, nothing in flight');
    assert.match(await h.metrics(), /llm_d_epp_flow_control_requests_total\{outcome="Dispatched",priority="0",inference_pool="default"\} 6/);
  } finally {
    await h.close();
  }
});

test('e2e flow control: EDF orders by deadline (the ext_proc stream gRPC deadline shortens the TTL)', async () => {
  const h = await flowEpp({ flowControl: '  defaultRequestTTL: 60s\n  priorityBands:\n  - {priority: 0, orderingPolicyRef: edf-ordering-policy}\n', pods: [SATURATED], plugins: '- type: edf-ordering-policy\n' });
  try {
    const none = h.send({ 'x-request-id': 'none' });
    const late = h.send({ 'x-request-id': '30s' }, { deadline: Date.now() + 30_000 });
    const soon = h.send({ 'x-request-id': '10s' }, { deadline: Date.now() + 10_000 });
    await until(() => h.fc.queued === 3, 'three queued');
    release(h.pods[0]!);
    await until(() => [none, late, soon].every((s) => s.firstResponse > 0), 'all routed');
    assert.deepEqual(h.dispatched, ['10s', '30s', 'none'], 'earliest deadline first');
    for (const s of [none, late, soon]) finish(s);
    await until(() => h.t.epp.extProc.openStreams === 0, 'streams closed');
  } finally {
    await h.close();
  }
});

test('e2e flow control: TTL expiry (429), capacity rejection (429), client cancel while queued (removed at once, nothing leaked)', async () => {
  const h = await flowEpp({ flowControl: '  defaultRequestTTL: 300ms\n  priorityBands:\n  - {priority: 0, maxRequests: 2}\n', pods: [SATURATED] });
  try {
    // TTL.
    const t0 = Date.now();
    const expiring = h.send({});
    await until(() => expiring.ended, 'the TTL ends the stream', 5000);
    assert.ok(Date.now() - t0 >= 250, 'not before its TTL');
    const ttl = immediate(expiring.received)!;
    assert.equal(ttl.status, 429);
    assert.equal(ttl.body, 'inference error: ResourceExhausted - request timed out in queue: request evicted from queue: request TTL expired');
    assert.equal(replyHeader(expiring.received[0], 'x-llm-d-request-dropped-reason'), 'rejected-ttl-expired');
    assert.equal(h.fc.queued, 0);

    // Capacity: the band holds two.
    const held = [h.send({}), h.send({})];
    await until(() => h.fc.queued === 2, 'two queued');
    const over = h.send({});
    await until(() => over.ended, 'the third is refused');
    const full = immediate(over.received)!;
    assert.equal(full.status, 429);
    assert.equal(full.body, 'inference error: ResourceExhausted - request rejected pre-queue: queue at capacity');
    assert.equal(replyHeader(over.received[0], 'x-llm-d-request-dropped-reason'), 'rejected-saturated');

    // Cancel: both held requests' clients go away; they leave the queue at once.
    for (const s of held) s.cancel();
    await until(() => h.fc.queued === 0 && h.fc.queuedBytes === 0, 'cancelled requests leave the queue');
    await until(() => h.t.epp.extProc.openStreams === 0, 'no stream left open');
    assert.equal(h.t.epp.tracker.totalInFlight(), 0);
    assert.equal(h.fc.timerArmed, false, 'no timer left behind');
    const text = await h.metrics();
    assert.match(text, /llm_d_epp_flow_control_requests_total\{outcome="EvictedContextCancelled",priority="0",inference_pool="default"\} 2/);
    assert.match(text, /llm_d_epp_flow_control_requests_total\{outcome="EvictedTTL",priority="0",inference_pool="default"\} 1/);
    assert.match(text, /llm_d_epp_flow_control_requests_total\{outcome="RejectedCapacity",priority="0",inference_pool="default"\} 1/);
  } finally {
    await h.close();
  }
});

test('e2e flow control: a pod joining an empty pool drains the queue', async () => {
  const h = await flowEpp({ flowControl: '  defaultRequestTTL: 30s\n', pods: [] });
  const joining = await fakePods([FREE]);
  try {
    const streams = Array.from({ length: 8 }, () => h.send({}));
    await until(() => h.fc.queued === 8, 'queued while the pool is empty');
    const pod = joining.pods[0]!;
    h.t.epp.dataLayer.sink.upsert({ name: pod.name, namespace: 'default', address: '127.0.0.1', port: pod.port, labels: {} });
    await until(() => streams.every((s) => s.firstResponse > 0), 'the new pod takes the queue');
    for (const s of streams) assert.equal(destinationOf(s.received), pod.hostPort);
    for (const s of streams) finish(s);
    await until(() => h.t.epp.extProc.openStreams === 0 && h.t.epp.tracker.totalInFlight() === 0, 'all ended');
  } finally {
    await h.close();
    await joining.close();
  }
});

test('e2e flow control: 10,000 queued requests are released in order; the event loop stays responsive (measured)', async (t) => {
  const N = 10_000;
  const h = await flowEpp({
    // Saturation from the KV figure only, and a queue threshold no burst reaches: the release is one burst.
    flowControl: '  defaultRequestTTL: 120s\n  priorityBands:\n  - {priority: 0, maxRequests: 20000}\n  saturationDetector: {pluginRef: detector}\n',
    pods: [{ waiting: 0, kv: 0.9 }],
    plugins: '- name: detector\n  type: utilization-detector\n  parameters: {queueDepthThreshold: 1000000}\n',
    args: ['--max-concurrent-streams=20000'],
  });
  try {
    const started = performance.now();
    const streams: Stream[] = [];
    for (let i = 0; i < N; i++) {
      streams.push(h.send({ 'x-request-id': `r${i}` }));
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    await until(() => h.fc.queued === N, `${N} queued`, 120_000);
    const enqueueMs = performance.now() - started;
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const t0 = performance.now();
    h.pods[0]!.page = { waiting: 0, kv: 0.1 };
    await until(() => streams[N - 1]!.firstResponse > 0 && streams.every((s) => s.firstResponse > 0), 'every request routed', 120_000);
    const releaseMs = performance.now() - t0;
    delay.disable();
    // grpc-js may start calls created in one tick out of order: the queue order is the order the EPP saw.
    assert.equal(h.admitted.length, N);
    assert.equal(h.dispatched.length, N);
    const firstMismatch = h.dispatched.findIndex((id, i) => id !== h.admitted[i]);
    assert.equal(firstMismatch, -1, 'released in the order they were queued');
    t.diagnostic(`${N} requests queued in ${enqueueMs.toFixed(0)} ms; released in ${releaseMs.toFixed(0)} ms; event-loop delay during the release: p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`);
    for (const s of streams) s.cancel();
    await until(() => h.t.epp.extProc.openStreams === 0 && h.t.epp.tracker.totalInFlight() === 0, 'every stream closed, nothing in flight', 60_000);
  } finally {
    await h.close();
  }
});

test('e2e flow control: with enableEviction a critical request waiting on a saturated pool evicts the newest sheddable one in flight (429, reason evicted)', async () => {
  const h = await flowEpp({
    flowControl: '  enableEviction: true\n  defaultRequestTTL: 30s\n  saturationDetector: {pluginRef: detector}\n',
    pods: [FREE],
    // Saturation from the EPP's own in-flight count: two requests fill the pod.
    plugins: '- name: detector\n  type: concurrency-detector\n  parameters: {maxConcurrency: 2}\n',
  });
  try {
    const b1 = h.send({ 'x-request-id': 'b1', 'x-llm-d-inference-objective': 'batch' });
    await until(() => b1.firstResponse > 0, 'b1 routed');
    const b2 = h.send({ 'x-request-id': 'b2', 'x-llm-d-inference-objective': 'batch' });
    await until(() => b2.firstResponse > 0, 'b2 routed');
    assert.equal(h.t.epp.tracker.totalInFlight(), 2);

    const c = h.send({ 'x-request-id': 'c', 'x-llm-d-inference-objective': 'critical' });
    await until(() => b2.ended, 'the newest sheddable request is evicted');
    const evicted = b2.received.map((r) => r.immediateResponse).find(Boolean)!;
    assert.equal(evicted.status?.code, 429);
    assert.equal(Buffer.from(evicted.body!).toString(), 'request evicted by flow control');
    assert.equal(replyHeader(b2.received.find((r) => r.immediateResponse), 'x-llm-d-request-dropped-reason'), 'evicted');
    await until(() => c.firstResponse > 0, 'the critical request takes its place');
    assert.equal(destinationOf(c.received), h.pods[0]!.hostPort);
    assert.equal(b1.ended, false, 'one eviction frees enough: the older sheddable request keeps running');
    assert.deepEqual(h.dispatched, ['b1', 'b2', 'c']);

    for (const s of [b1, c]) finish(s);
    await until(() => h.t.epp.extProc.openStreams === 0 && h.t.epp.tracker.totalInFlight() === 0, 'every request ended, nothing in flight');
    const text = await h.metrics();
    assert.match(text, /llm_d_epp_flow_control_revocations_issued_total\{priority="10"[^}]*\} 1/);
    assert.match(text, /llm_d_epp_flow_control_revocations_total\{outcome="confirmed"[^}]*\} 1/);
  } finally {
    await h.close();
  }
});

test('e2e flow control: program-aware-fairness sends the program with the least attained service first; its service is exported', async () => {
  const h = await flowEpp({
    flowControl: '  defaultPriorityBand: {fairnessPolicyRef: program-aware-fairness}\n',
    pods: [FREE],
    plugins: '- type: program-aware-fairness\n',
  });
  try {
    // "heavy" has consumed 1,000 prompt + 100 completion tokens before the pool saturates.
    const first = h.send({ 'x-request-id': 'h0', 'x-llm-d-inference-fairness-id': 'heavy' });
    await until(() => first.firstResponse > 0, 'h0 routed');
    first.send(responseHeaders({ ':status': '200', 'content-type': 'application/json' })).send(responseBody('{"usage":{"prompt_tokens":1000,"completion_tokens":100,"total_tokens":1100}}', true));
    first.endSide();
    await until(() => first.ended, 'h0 done');
    assert.match(await h.metrics(), /llm_d_epp_program_aware_attained_service_tokens\{program_id="heavy"\} 1\d{3}/);

    h.pods[0]!.page = { ...SATURATED };
    await until(() => h.t.epp.dataLayer.store.snapshot().endpoints[0]?.metrics.waitingQueueSize === SATURATED.waiting, 'the EPP sees the pool saturated');
    const heavy = h.send({ 'x-request-id': 'h1', 'x-llm-d-inference-fairness-id': 'heavy' });
    await until(() => h.fc.queued === 1, 'h1 queued');
    const light = h.send({ 'x-request-id': 'l1', 'x-llm-d-inference-fairness-id': 'light' });
    await until(() => h.fc.queued === 2, 'l1 queued');
    release(h.pods[0]!);
    await until(() => heavy.firstResponse > 0 && light.firstResponse > 0, 'both routed');
    assert.deepEqual(h.dispatched, ['h0', 'l1', 'h1'], 'the light program goes first although it queued second');
    for (const s of [heavy, light]) finish(s);
    await until(() => h.t.epp.extProc.openStreams === 0 && h.t.epp.tracker.totalInFlight() === 0, 'all ended');
  } finally {
    await h.close();
  }
});
