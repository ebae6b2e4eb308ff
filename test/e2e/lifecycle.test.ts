/** End-to-end over real gRPC: the response path, model rewrites, usage metrics and in-flight release. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chat,
  destinationOf,
  fakePods,
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
  startTestEpp,
  Stream,
  streamedRequestBody,
  streamedResponseBody,
} from '../helpers/ext-proc-harness.js';
import { writeFileSync } from 'node:fs';
import { until } from '../helpers/until.js';

const REWRITES = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: {name: food}
spec:
  rules:
  - matches: [{model: {value: food-review}}]
    targets: [{modelRewrite: food-review-v2, weight: 1}]
`;

test('e2e lifecycle: rewrites by header and by rule, responses renamed back, SSE usage counted, JSON split across chunks, cancel releases', async () => {
  const fake = await fakePods([{ waiting: 0, kv: 0.1 }]);
  const t = await startTestEpp({ endpoints: fake.pods, resources: REWRITES });
  const inFlight = () => t.epp.dataLayer.store.snapshot().endpoints[0]!.load.inFlightRequests;
  try {
    // Rewrite by header: the body sent upstream names the target; the JSON response, split across two
    // chunks, is buffered and comes back whole with the client's model name and no content-length.
    const s = new Stream(t.client).send(requestHeaders({ 'x-gateway-model-name-rewrite': 'tuned-adapter' })).send(requestBody(chat('base-model', { max_tokens: 8 })));
    const routed = await s.responses(2);
    assert.deepEqual(JSON.parse(streamedRequestBody(routed)), JSON.parse(chat('tuned-adapter', { max_tokens: 8 })));
    assert.equal(inFlight(), 1, 'the pick reserved an in-flight slot');
    const reply = JSON.stringify({ id: 'x', model: 'tuned-adapter', choices: [{ message: { content: 'hi from tuned-adapter' } }], usage: { prompt_tokens: 11, completion_tokens: 3 } });
    s.send(responseHeaders({ ':status': '200', 'content-type': 'application/json', 'content-length': String(reply.length) }));
    const [, , headersAnswer] = await s.responses(3);
    assert.deepEqual(headersAnswer!.responseHeaders?.response?.headerMutation?.removeHeaders, ['content-length']);
    s.send(responseBody(reply.slice(0, 30)));
    s.send(responseBody(reply.slice(30), true));
    const all = await s.responses(4);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(all.length, 4, 'the first chunk was held back: one streamed answer carries the whole body');
    const back = JSON.parse(streamedResponseBody(all));
    assert.equal(back.model, 'base-model');
    assert.equal(back.choices[0].message.content, 'hi from tuned-adapter', 'only the top-level model is renamed');
    assert.equal(all[3]!.responseBody?.response?.bodyMutation?.streamedResponse?.endOfStream, true);
    assert.equal(inFlight(), 0, 'completion released it');
    s.endSide();

    // A matching InferenceModelRewrite rule wins over the header.
    const r = new Stream(t.client).send(requestHeaders({ 'x-gateway-model-name-rewrite': 'ignored' })).send(requestBody(chat('food-review')));
    assert.equal(JSON.parse(streamedRequestBody(await r.responses(2))).model, 'food-review-v2');
    r.send(responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }));
    // SSE: passed through event by event (a partial line waits for its end), renamed, usage counted.
    const events = [
      `data: ${JSON.stringify({ model: 'food-review-v2', choices: [{ delta: { content: 'a' } }] })}\n\n`,
      `data: ${JSON.stringify({ model: 'food-review-v2', choices: [], usage: { prompt_tokens: 42, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 16 } } })}\n\ndata: [DONE]\n\n`,
    ];
    r.send(responseBody(events[0]!));
    await r.responses(4);
    assert.match(streamedResponseBody(r.received), /^data: \{"model":"food-review",/, 'the first event reached the client before the stream ended');
    r.send(responseBody(events[1]!.slice(0, 25)));
    r.send(responseBody(events[1]!.slice(25), true));
    await r.responses(5);
    const sse = streamedResponseBody(r.received);
    assert.equal(sse.match(/"model":"food-review"/g)?.length, 2);
    assert.ok(sse.endsWith('data: [DONE]\n\n'));
    r.endSide();
    const metrics = await t.epp.metrics.metrics();
    assert.match(metrics, /inference_objective_input_tokens_sum\{model_name="food-review",target_model_name="food-review-v2"\} 42/);
    assert.match(metrics, /inference_objective_output_tokens_sum\{model_name="food-review",target_model_name="food-review-v2"\} 7/);
    assert.match(metrics, /inference_objective_prompt_cached_tokens_sum\{model_name="food-review",target_model_name="food-review-v2"\} 16/);
    assert.match(metrics, /inference_objective_input_tokens_sum\{model_name="base-model",target_model_name="tuned-adapter"\} 11/);

    // The resources file is watched: an edited rule applies to the next request.
    writeFileSync(t.resourcesFile!, REWRITES.replace('food-review-v2', 'food-review-v3'));
    await until(async () => {
      const probe = new Stream(t.client).send(requestHeaders({})).send(requestBody(chat('food-review')));
      const model = JSON.parse(streamedRequestBody(await probe.responses(2))).model;
      probe.cancel();
      return model === 'food-review-v3';
    }, 'the edited rewrite rule in effect');
    await until(() => inFlight() === 0, 'the cancelled probes released their slots');

    // A proxy that cancels mid-stream (its client went away) releases the in-flight count.
    const c = new Stream(t.client).send(requestHeaders({})).send(requestBody(chat('m')));
    assert.equal(destinationOf(await c.responses(2)), fake.pods[0]!.hostPort);
    c.send(responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }));
    await c.responses(3);
    assert.equal(inFlight(), 1);
    c.cancel();
    await until(() => inFlight() === 0, 'the cancelled request released its slot');
    await until(() => t.epp.extProc.openStreams === 0, 'no stream left open');
    assert.match(await t.epp.metrics.metrics(), /inference_objective_running_requests\{model_name="m"\} 0/);

    // A pod's error status passes through and is counted as the model server's error.
    const failing = new Stream(t.client).send(requestHeaders({})).send(requestBody(chat('m')));
    await failing.responses(2);
    failing.send(responseHeaders({ ':status': '503', 'content-type': 'text/plain' })).send(responseBody('overloaded', true));
    assert.equal(streamedResponseBody(await failing.responses(4)), 'overloaded');
    assert.match(await t.epp.metrics.metrics(), /^inference_objective_request_error_total\{model_name="m",target_model_name="m",error_code="ModelServerError"\} 1$/m);
    await until(() => inFlight() === 0, 'the failed request released its slot');

    // A stream that starts at the response phase (the proxy skipped the request phase): answered, and its
    // usage recorded with empty model labels, as the Go EPP does.
    const late = new Stream(t.client).send(responseHeaders({ ':status': '200', 'content-type': 'application/json' }));
    late.send(responseBody('{"usage":{"prompt_tokens":5,', false)).send(responseBody('"completion_tokens":9}}', true));
    assert.equal(streamedResponseBody(await late.responses(2)), '{"usage":{"prompt_tokens":5,"completion_tokens":9}}');
    const counted = await t.epp.metrics.metrics();
    assert.match(counted, /^inference_objective_input_tokens_sum\{model_name="",target_model_name=""\} 5$/m);
    assert.match(counted, /^inference_objective_output_tokens_sum\{model_name="",target_model_name=""\} 9$/m);
    late.endSide();
  } finally {
    await t.close();
    await fake.close();
  }
});

test('e2e lifecycle: fallbacks are offered comma-joined, and when the proxy reports a fallback served, the in-flight count moves there', async () => {
  const fake = await fakePods([{ waiting: 0, kv: 0.1 }, { waiting: 4, kv: 0.5 }]);
  const t = await startTestEpp({
    endpoints: fake.pods,
    config: `plugins:
- type: queue-scorer
- type: max-score-picker
  parameters: {maxNumOfEndpoints: 2}
schedulingProfiles:
- name: default
  plugins: [{pluginRef: queue-scorer}, {pluginRef: max-score-picker}]`,
  });
  const inFlight = () => Object.fromEntries(t.epp.dataLayer.store.snapshot().endpoints.map((e) => [e.hostPort, e.load.inFlightRequests]));
  const [best, fallback] = fake.pods.map((p) => p.hostPort);
  try {
    const s = new Stream(t.client).send(requestHeaders({})).send(requestBody(chat('m')));
    assert.equal(destinationOf(await s.responses(2)), `${best},${fallback}`);
    assert.deepEqual(inFlight(), { [best!]: 1, [fallback!]: 0 });
    s.send({
      ...responseHeaders({ ':status': '200', 'content-type': 'application/json' }),
      metadataContext: { filterMetadata: { 'envoy.lb': { fields: { 'x-gateway-destination-endpoint-served': { stringValue: fallback! } } } } },
    });
    await s.responses(3);
    assert.deepEqual(inFlight(), { [best!]: 0, [fallback!]: 1 }, 'the reservation followed the served endpoint');
    s.send(responseBody('{"usage":{"prompt_tokens":1}}', true));
    await s.responses(4);
    assert.deepEqual(inFlight(), { [best!]: 0, [fallback!]: 0 });
    s.endSide();
  } finally {
    await t.close();
    await fake.close();
  }
});
