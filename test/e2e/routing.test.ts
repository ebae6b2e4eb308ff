/** End-to-end over real gRPC: who gets picked, and every way a request is refused before routing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chat,
  destinationOf,
  fakePods,
  headerSet,
  immediate,
  requestBody,
  requestHeaders,
  startTestEpp,
  Stream,
  streamedRequestBody,
} from '../helpers/ext-proc-harness.js';
import { until } from '../helpers/until.js';

// Both parse paths: inline, and every body through the worker pool.
for (const [path, args] of [['inline parsing', ['--workers=0']], ['bodies parsed on a worker', ['--workers=1', '--parse-offload-bytes=0']]] as const) {
  test(`e2e routing (${path}): lowest queue and KV wins; header-only; body in chunks; subset hints; bad bodies; over-limit body`, async () => {
    const fake = await fakePods([
      { waiting: 6, kv: 0.7 },
      { waiting: 0, kv: 0.1 }, // the best on both
      { waiting: 3, kv: 0.4 },
    ]);
    const { pods } = fake;
    const t = await startTestEpp({ endpoints: pods, maxBodyBytes: 4096, args });
    try {
      // Lowest queue and KV wins, with the routing response in the EPP protocol's shape.
      const body = chat('food-review');
      const s = new Stream(t.client).send(requestHeaders({ 'content-length': String(body.length), hi: 'mom', 'x-gateway-inference-objective': 'o' })).send(requestBody(body));
      const got = await s.responses(2);
      assert.equal(destinationOf(got), pods[1]!.hostPort);
      const route = got[0]!;
      assert.equal(route.requestHeaders?.response?.clearRouteCache, true);
      assert.equal(headerSet(route, 'content-length'), String(body.length));
      assert.equal(headerSet(route, 'hi'), 'mom', 'request headers are echoed, as the Go EPP does');
      assert.equal(headerSet(route, 'x-gateway-inference-objective'), undefined, 'system-owned headers are not');
      assert.match(headerSet(route, 'x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'a generated x-request-id is set');
      assert.equal(route.dynamicMetadata?.fields?.['envoy.lb']?.structValue?.fields?.['x-gateway-destination-endpoint']?.stringValue, pods[1]!.hostPort);
      assert.equal(streamedRequestBody(got), body);
      assert.equal(got[1]!.requestBody?.response?.bodyMutation?.streamedResponse?.endOfStream, true);
      s.endSide();

      // Header-only (a GET): routed at once, on the header response, without Content-Length.
      const h = new Stream(t.client).send(requestHeaders({ ':method': 'GET', ':path': '/v1/models' }, true));
      const [headerOnly] = await h.responses(1);
      assert.equal(destinationOf([headerOnly!]), pods[1]!.hostPort);
      assert.equal(headerSet(headerOnly, 'content-length'), undefined);
      h.endSide();

      // A body split across chunks is buffered until end_of_stream, then routed whole.
      const split = new Stream(t.client).send(requestHeaders({}));
      for (const [i, part] of [body.slice(0, 5), body.slice(5, 20), body.slice(20)].entries()) split.send(requestBody(part, i === 2));
      const splitGot = await split.responses(2);
      assert.equal(streamedRequestBody(splitGot), body);
      split.endSide();

      // Subset hint: only listed endpoints are candidates; a partial match routes among the matches.
      const hint = (list: string[]) => ({
        metadataContext: { filterMetadata: { 'envoy.lb.subset_hint': { fields: { 'x-gateway-destination-endpoint-subset': { listValue: { values: list.map((v) => ({ stringValue: v })) } } } } } },
      });
      const partial = new Stream(t.client).send(requestHeaders({}, false, hint([pods[2]!.hostPort, '10.9.9.9:8000']))).send(requestBody(body));
      assert.equal(destinationOf(await partial.responses(2)), pods[2]!.hostPort, 'the best of the listed endpoints, not the best of the pool');
      partial.endSide();

      const cases: { name: string; messages: Parameters<Stream['send']>[0][]; status: number; body: RegExp }[] = [
        { name: 'subset with no match', messages: [requestHeaders({}, false, hint(['10.9.9.9:8000'])), requestBody(body)], status: 503, body: /^inference error: ServiceUnavailable - no endpoint of the pool matches the subset hint \(10\.9\.9\.9:8000\)$/ },
        { name: 'empty subset', messages: [requestHeaders({}, false, hint([])), requestBody(body)], status: 503, body: /the subset hint lists no endpoints/ },
        { name: 'missing model', messages: [requestHeaders({}), requestBody(JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }))], status: 400, body: /^inference error: BadRequest - model not found in request body$/ },
        { name: 'invalid JSON', messages: [requestHeaders({}), requestBody('{"model": "m", ')], status: 400, body: /^inference error: BadRequest - invalid JSON body/ },
        { name: 'body over the limit, streamed', messages: [requestHeaders({}), requestBody('x'.repeat(3000), false), requestBody('x'.repeat(3000), false)], status: 413, body: /request body is over 3000 bytes and growing; the limit is 4096 bytes/ },
        { name: 'body over the limit, declared', messages: [requestHeaders({ 'content-length': '999999' })], status: 413, body: /request body declares 999999 bytes; the limit is 4096 bytes/ },
      ];
      for (const c of cases) {
        const e = new Stream(t.client);
        for (const m of c.messages) e.send(m);
        await until(() => e.ended, `${c.name}: the EPP ends the stream`);
        const answer = immediate(e.received);
        assert.equal(answer?.status, c.status, c.name);
        assert.match(answer!.body, c.body, c.name);
        assert.equal(e.received.length, 1, `${c.name}: one ImmediateResponse and nothing else`);
        assert.equal(e.error, undefined, `${c.name}: a clean end, not a gRPC error`);
      }
      await until(() => t.epp.extProc.openStreams === 0, 'no stream left open');
      assert.equal((t.epp.parseOffload?.stats.offloaded ?? 0) > 0, args[0] === '--workers=1', 'the worker path ran exactly when asked for');
      const metrics = await t.epp.metrics.metrics();
      assert.match(metrics, /^inference_objective_request_error_total\{model_name="",target_model_name="",error_code="BadRequest"\} 4$/m, '2 bad bodies and 2 over-limit bodies, each counted once');
      assert.match(metrics, /^inference_objective_request_error_total\{model_name="food-review",target_model_name="food-review",error_code="ServiceUnavailable"\} 2$/m);
      assert.ok(t.epp.dataLayer.store.snapshot().endpoints.every((e) => e.load.inFlightRequests <= 4), 'only the routed requests hold in-flight counts');
    } finally {
      await t.close();
      await fake.close();
    }
  });

}

test('e2e routing: LoRA affinity beats lower KV', async () => {
  const fake = await fakePods([
    { waiting: 0, kv: 0.1, lora: { running: ['other-a', 'other-b'], max: 2 } }, // low KV, adapter absent, no slot
    { waiting: 0, kv: 0.5, lora: { running: ['sql-lora'], max: 2 } }, // adapter loaded
  ]);
  const t = await startTestEpp({
    endpoints: fake.pods,
    config: `plugins:
- type: lora-affinity-scorer
- type: kv-cache-utilization-scorer
schedulingProfiles:
- name: default
  plugins:
  - {pluginRef: lora-affinity-scorer, weight: 1}
  - {pluginRef: kv-cache-utilization-scorer, weight: 1}`,
  });
  try {
    const s = new Stream(t.client).send(requestHeaders({})).send(requestBody(chat('sql-lora')));
    assert.equal(destinationOf(await s.responses(2)), fake.pods[1]!.hostPort);
    s.endSide();
  } finally {
    await t.close();
    await fake.close();
  }
});

test('e2e routing: no pods is a 503 that says so (a bad body there is still a 400); shedding a sheddable request while saturated, routing a critical one', async () => {
  const empty = await startTestEpp({ endpoints: [] });
  try {
    const s = new Stream(empty.client).send(requestHeaders({})).send(requestBody(chat('m')));
    await until(() => s.ended, 'the stream ends');
    assert.deepEqual(immediate(s.received), { status: 503, body: 'inference error: ServiceUnavailable - no endpoints available in the inference pool' });
    // The body is checked before candidates are looked for: a bad body is a 400 even with no pods.
    const bad = new Stream(empty.client).send(requestHeaders({})).send(requestBody('{"prompt": "no model"}'));
    await until(() => bad.ended, 'the bad stream ends');
    assert.equal(immediate(bad.received)?.status, 400);
  } finally {
    await empty.close();
  }

  const fake = await fakePods([{ waiting: 20, kv: 0.95 }, { waiting: 30, kv: 0.99 }]);
  const t = await startTestEpp({
    endpoints: fake.pods,
    resources: `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: batch}
spec: {priority: -1}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: critical}
spec: {priority: 10}
`,
  });
  try {
    const shed = new Stream(t.client).send(requestHeaders({ 'x-gateway-inference-objective': 'batch' })).send(requestBody(chat('m')));
    await until(() => shed.ended, 'the shed stream ends');
    assert.equal(immediate(shed.received)?.status, 429);
    assert.match(immediate(shed.received)!.body, /^inference error: InferencePoolResourceExhausted - the pool is saturated and objective "batch" is sheddable \(priority -1\)$/);

    const kept = new Stream(t.client).send(requestHeaders({ 'x-gateway-inference-objective': 'critical' })).send(requestBody(chat('m')));
    assert.equal(destinationOf(await kept.responses(2)), fake.pods[0]!.hostPort);
    kept.endSide();
    const metrics = await t.epp.metrics.metrics();
    assert.match(metrics, /inference_objective_request_error_total\{model_name="m",target_model_name="m",error_code="InferencePoolResourceExhausted"\} 1/);
    assert.match(metrics, /inference_objective_request_total\{model_name="m",target_model_name="m",priority="10"\} 1/);
  } finally {
    await t.close();
    await fake.close();
  }
});

test('e2e routing: a pod that stops answering its scrapes stops drawing traffic once stale; with every pod dead, requests still route', async () => {
  const fake = await fakePods([{ waiting: 0, kv: 0.1 }, { waiting: 5, kv: 0.5 }]);
  const [best, other] = fake.pods;
  const t = await startTestEpp({ endpoints: fake.pods, args: ['--metrics-staleness-threshold=150ms'] });
  const route = async () => {
    const s = new Stream(t.client).send(requestHeaders({})).send(requestBody(chat('m')));
    const where = destinationOf(await s.responses(2));
    s.cancel();
    return where;
  };
  try {
    assert.equal(await route(), best!.hostPort);
    await best!.kill();
    await until(async () => (await route()) === other!.hostPort, 'traffic moves off the dead pod');
    assert.match(t.epp.dataLayer.scrapeProblem(`default/${best!.name}`) ?? '', /^connection: /);
    await other!.kill();
    await until(() => /^connection: /.test(t.epp.dataLayer.scrapeProblem(`default/${other!.name}`) ?? ''), 'the second pod fails too');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok([best!.hostPort, other!.hostPort].includes((await route())!), 'with none reachable, all are candidates again (no 503)');
  } finally {
    await t.close();
    await fake.close();
  }
});

test('e2e streams: bounded (one over the limit is a 503 at once) and idle ones end with a 408, leaving nothing open', async () => {
  const fake = await fakePods([{ waiting: 0 }]);
  const t = await startTestEpp({ endpoints: fake.pods, args: ['--max-concurrent-streams=2', '--stream-idle-timeout=300ms'] });
  try {
    const quiet = [new Stream(t.client).send(requestHeaders({})), new Stream(t.client).send(requestHeaders({}))];
    await until(() => t.epp.extProc.openStreams === 2, 'two streams open');
    const third = new Stream(t.client).send(requestHeaders({}));
    const refused = immediate(await third.responses(1));
    assert.equal(refused?.status, 503);
    assert.match(refused!.body, /^inference error: ServiceUnavailable - every ext_proc stream slot is taken \(--max-concurrent-streams 2\)/);
    await until(() => third.ended, 'the refused stream ended');
    // The two that sent headers and stopped: answered 408 once idle, and ended.
    for (const q of quiet) {
      const got = immediate(await q.responses(1));
      assert.equal(got?.status, 408);
      assert.match(got!.body, /no message from the proxy for 300 ms/);
    }
    await until(() => quiet.every((q) => q.ended) && t.epp.extProc.openStreams === 0, 'idle streams ended');
    // A slot is free again.
    const body = chat('m');
    const next = new Stream(t.client).send(requestHeaders({})).send(requestBody(body));
    assert.equal(destinationOf(await next.responses(2)), fake.pods[0]!.hostPort);
    next.endSide();
  } finally {
    await t.close();
    await fake.close();
  }
});
