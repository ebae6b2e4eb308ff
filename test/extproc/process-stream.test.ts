/** The phase machine alone (no gRPC): modes, odd orders, chunking, and that every route ends exactly once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodySendMode, type ProcessingRequest, type ProcessingResponse } from '../../src/extproc/codec.js';
import { ProcessStream, STREAM_CHUNK_BYTES } from '../../src/extproc/process-stream.js';
import { stubDirector, type StubCalls } from '../helpers/stub-director.js';
import { requestBody, requestHeaders, responseBody, responseHeaders } from '../helpers/ext-proc-harness.js';

function run(messages: ProcessingRequest[], o: { maxBodyBytes?: number; rewriteTo?: string } = {}) {
  const sent: ProcessingResponse[] = [];
  const calls: StubCalls = { completed: [] };
  let ended = 0;
  const stream = new ProcessStream(stubDirector(undefined, calls, o.rewriteTo), { send: (m) => sent.push(m), end: () => ended++ }, { maxBodyBytes: o.maxBodyBytes ?? 1 << 20, maxResponseBufferBytes: 1 << 20 });
  for (const m of messages) stream.onMessage(m);
  return { sent, calls, ended, stream };
}

const kinds = (sent: ProcessingResponse[]) => sent.map((m) => Object.keys(m).filter((k) => k !== 'dynamicMetadata').join('+'));
const buffered = { protocolConfig: { requestBodyMode: BodySendMode.BUFFERED, responseBodyMode: BodySendMode.BUFFERED } };

const cases: { name: string; messages: ProcessingRequest[]; kinds: string[]; completed: string[]; ended?: number; check?: (sent: ProcessingResponse[]) => void }[] = [
  {
    name: 'a stream that starts at the response phase is answered, with nothing to release',
    messages: [responseHeaders({ ':status': '200' }), responseBody('{}', true)],
    kinds: ['responseHeaders', 'responseBody'],
    completed: [],
  },
  {
    name: 'BUFFERED: headers answered at once, the route rides on the body answer',
    messages: [{ ...requestHeaders({}), ...buffered }, requestBody('{"model":"m","prompt":"x"}')],
    kinds: ['requestHeaders', 'requestBody'],
    completed: [],
    check: (sent) => {
      assert.equal(sent[0]!.requestHeaders?.response?.headerMutation, undefined, 'the first answer carries no route');
      const set = sent[1]!.requestBody?.response?.headerMutation?.setHeaders?.map((h) => h.header.key);
      assert.deepEqual(set, ['x-gateway-destination-endpoint', 'content-length', ':method', ':path', 'x-request-id'], 'the request headers echoed, then the generated request id');
      assert.equal(sent[1]!.requestBody?.response?.clearRouteCache, true);
      assert.equal(sent[1]!.requestBody?.response?.bodyMutation, undefined, 'an unchanged body is not sent back');
    },
  },
  {
    name: 'BUFFERED response: an unchanged body gets an empty answer and completes the request',
    messages: [{ ...requestHeaders({}), ...buffered }, requestBody('{}'), responseHeaders({ ':status': '200', 'content-type': 'application/json' }), responseBody('{"usage":{"prompt_tokens":3}}', true)],
    kinds: ['requestHeaders', 'requestBody', 'responseHeaders', 'responseBody'],
    completed: ['success'],
    check: (sent) => assert.deepEqual(sent[3]!.responseBody?.response, {}),
  },
  {
    name: 'a body larger than one chunk goes back in 62,000-byte streamed chunks, the last marked',
    messages: [requestHeaders({}), requestBody('x'.repeat(STREAM_CHUNK_BYTES * 2 + 5))],
    kinds: ['requestHeaders', 'requestBody', 'requestBody', 'requestBody'],
    completed: [],
    check: (sent) => {
      const parts = sent.slice(1).map((m) => m.requestBody!.response!.bodyMutation!.streamedResponse!);
      assert.deepEqual(parts.map((p) => p.body!.length), [STREAM_CHUNK_BYTES, STREAM_CHUNK_BYTES, 5]);
      assert.deepEqual(parts.map((p) => Boolean(p.endOfStream)), [false, false, true]);
    },
  },
  {
    name: 'request trailers end a body that never said end_of_stream, and get no answer themselves',
    messages: [requestHeaders({}), requestBody('{"a":1}', false), { request: 'requestTrailers', requestTrailers: {} }],
    kinds: ['requestHeaders', 'requestBody'],
    completed: [],
  },
  {
    name: 'response headers with end_of_stream complete the request',
    messages: [requestHeaders({}, true), responseHeaders({ ':status': '204' }, true)],
    kinds: ['requestHeaders', 'responseHeaders'],
    completed: ['success'],
  },
  {
    name: 'a pod error status completes as an error (the reservation is still released)',
    messages: [requestHeaders({}, true), responseHeaders({ ':status': '503' }), responseBody('busy', true)],
    kinds: ['requestHeaders', 'responseHeaders', 'responseBody'],
    completed: ['error'],
  },
  {
    name: 'request headers twice: 400, and the stream ends',
    messages: [requestHeaders({}), requestHeaders({})],
    kinds: ['immediateResponse'],
    completed: [],
    ended: 1,
  },
  {
    name: 'a body before any headers: 400',
    messages: [requestBody('{}')],
    kinds: ['immediateResponse'],
    completed: [],
    ended: 1,
  },
  {
    name: 'a message with no phase: 400; later messages are ignored',
    messages: [{}, requestHeaders({})],
    kinds: ['immediateResponse'],
    completed: [],
    ended: 1,
  },
  {
    name: 'an error after routing completes the routed request as an error',
    messages: [requestHeaders({}, true), requestBody('late')],
    kinds: ['requestHeaders', 'immediateResponse'],
    completed: ['error'],
    ended: 1,
  },
];

for (const c of cases) {
  test(`process stream: ${c.name}`, () => {
    const { sent, calls, ended } = run(c.messages);
    assert.deepEqual(kinds(sent), c.kinds);
    assert.deepEqual(calls.completed, c.completed);
    assert.equal(ended, c.ended ?? 0);
    c.check?.(sent);
  });
}

test('process stream: a routed request that the proxy abandons ends once, as a disconnect', () => {
  const { calls, stream } = run([requestHeaders({}, true), responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }), responseBody('data: {}\n\n')]);
  stream.onClosed();
  stream.onClosed();
  assert.deepEqual(calls.completed, ['disconnect']);
});

test('process stream: error messages name the phase problem', () => {
  const body = (m: ProcessingResponse | undefined) => Buffer.from(m?.immediateResponse?.body ?? []).toString();
  assert.equal(body(run([requestBody('{}')]).sent[0]), 'inference error: BadRequest - request body arrived before the request headers');
  assert.equal(body(run([requestHeaders({}, true), requestBody('late')]).sent[1]), 'inference error: BadRequest - request body arrived after the request was routed');
  assert.equal(body(run([requestHeaders({}), requestHeaders({})]).sent[0]), 'inference error: BadRequest - request headers arrived twice on one stream');
});

test('process stream: a body parsed on a worker routes when the parse ends, later messages answered after it; a cancel meanwhile releases the pick; a half-close waits', async () => {
  for (const proxy of ['stays', 'cancels', 'half-closes'] as const) {
    const calls: StubCalls = { completed: [] };
    const inline = stubDirector(undefined, calls);
    let resolveRoute: (() => void) | undefined;
    const director = {
      ...inline,
      routeOrOffload: (input: Parameters<typeof inline.route>[0]) => new Promise((resolve) => (resolveRoute = () => resolve(inline.route(input)))),
      complete: inline.complete,
    } as unknown as typeof inline;
    const sent: ProcessingResponse[] = [];
    let ended = 0;
    const stream = new ProcessStream(director, { send: (m) => sent.push(m), end: () => ended++ }, { maxBodyBytes: 1 << 20, maxResponseBufferBytes: 1 << 20 });
    stream.onMessage(requestHeaders({}));
    stream.onMessage(requestBody('{"model":"m","prompt":"x"}'));
    stream.onMessage(responseHeaders({ ':status': '200' })); // a proxy that sends ahead: answered in order
    assert.equal(sent.length, 0, 'nothing is answered while the body is parsed');
    if (proxy === 'cancels') stream.onClosed();
    if (proxy === 'half-closes') stream.onHalfClose();
    assert.equal(ended, 0, `${proxy}: the stream stays open until the parse ends`);
    resolveRoute!();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(kinds(sent), proxy === 'cancels' ? [] : ['requestHeaders', 'requestBody', 'responseHeaders'], proxy);
    assert.deepEqual(calls.completed, proxy === 'stays' ? [] : ['disconnect'], proxy);
    assert.equal(ended, proxy === 'half-closes' ? 1 : 0, proxy);
  }
});

test('process stream: 2,000 random message sequences never throw, never answer after the end, and end every route exactly once', async () => {
  const { seededRandom } = await import('../../src/scheduling/random.js');
  const random = seededRandom(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random.next() * xs.length)]!;
  const menu: (() => ProcessingRequest)[] = [
    () => requestHeaders({}, random.next() < 0.3),
    () => ({ ...requestHeaders({}), ...buffered }),
    () => requestBody('{"model":"m","prompt":"x"}', random.next() < 0.7),
    () => requestBody('x'.repeat(Math.floor(random.next() * 3000)), random.next() < 0.5),
    () => ({ request: 'requestTrailers', requestTrailers: {} }),
    () => responseHeaders({ ':status': pick(['200', '500']), 'content-type': pick(['application/json', 'text/event-stream']) }, random.next() < 0.2),
    () => responseBody(pick(['{"usage":{"prompt_tokens":1}}', 'data: {}\n\n', 'partial']), random.next() < 0.5),
    () => ({ request: 'responseTrailers', responseTrailers: {} }),
    () => ({}),
  ];
  for (let run = 0; run < 2000; run++) {
    const calls: StubCalls = { completed: [] };
    let ended = 0;
    let sentAfterEnd = 0;
    const stream = new ProcessStream(stubDirector(undefined, calls), { send: () => void (ended > 0 && sentAfterEnd++), end: () => ended++ }, { maxBodyBytes: 4096, maxResponseBufferBytes: 2048 });
    const length = 1 + Math.floor(random.next() * 8);
    for (let i = 0; i < length; i++) stream.onMessage(pick(menu)());
    if (random.next() < 0.5) stream.onClosed();
    else stream.onHalfClose();
    assert.equal(calls.completed.length, calls.routes ?? 0, `run ${run}: ${calls.routes ?? 0} routes, ${calls.completed.length} ends`);
    assert.equal(sentAfterEnd, 0, `run ${run}: answered after the end`);
    assert.equal(stream.finished, true, `run ${run}: the stream is finished once the proxy has gone`);
  }
});

test('process stream: every routed request echoes the request headers except the system-owned ones, and the client\'s x-request-id', () => {
  const client = {
    'hi': 'mom',
    'x-request-id': 'client-7',
    'content-length': '26',
    'x-gateway-inference-objective': 'critical',
    'x-llm-d-inference-objective': 'critical',
    'x-gateway-model-name-rewrite': 'other',
    'x-gateway-destination-endpoint': '6.6.6.6:1',
    'x-gateway-destination-endpoint-subset': '10.0.0.7:8000',
    'x-slo-ttft-ms': '100',
    'x-llm-d-request-dropped-reason': 'x',
  };
  const body = '{"model":"m","prompt":"x"}';
  const paths: [string, ProcessingRequest[]][] = [
    ['a JSON body', [requestHeaders(client), requestBody(body)]],
    ['a header-only request', [requestHeaders(client, true)]],
    ['a body split over chunks', [requestHeaders(client), requestBody(body.slice(0, 9), false), requestBody(body.slice(9))]],
    ['BUFFERED', [{ ...requestHeaders(client), ...buffered }, requestBody(body)]],
  ];
  for (const [name, messages] of paths) {
    const { sent } = run(messages);
    const route = sent.find((m) => m.dynamicMetadata)!;
    const set = (route.requestHeaders ?? route.requestBody)!.response!.headerMutation!.setHeaders!;
    const got = Object.fromEntries(set.map((h) => [h.header.key, Buffer.from(h.header.rawValue!).toString()]));
    const want: Record<string, string> = { 'x-gateway-destination-endpoint': '10.0.0.7:8000,10.0.0.8:8000', ':method': 'POST', ':path': '/v1/chat/completions', hi: 'mom', 'x-request-id': 'client-7' };
    if (name !== 'a header-only request') want['content-length'] = String(body.length);
    assert.deepEqual(got, want, name);
    assert.equal(set.length, Object.keys(want).length, `${name}: each header once`);
  }
});

test('process stream: a stream that starts at the response phase still reports its usage (JSON and SSE)', () => {
  const json = run([responseHeaders({ ':status': '200', 'content-type': 'application/json' }), responseBody('{"usage":{"prompt_tokens":7,', false), responseBody('"completion_tokens":10}}', true)]);
  assert.deepEqual(json.calls.unrouted, [{ kind: 'success', usage: { promptTokens: 7, completionTokens: 10, cachedPromptTokens: 0 }, bytes: 52 }]);
  const sse = run([responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }), responseBody('data: {"usage":{"prompt_tokens":2,"completion_tokens":3}}\n\n'), responseBody('data: [DONE]\n\n', true)]);
  assert.equal(sse.calls.unrouted?.[0]?.kind, 'success');
  assert.deepEqual(sse.calls.unrouted?.[0]?.usage, { promptTokens: 2, completionTokens: 3, cachedPromptTokens: 0 });
  const failed = run([responseHeaders({ ':status': '500' }), responseBody('oops', true)]);
  assert.deepEqual(failed.calls.unrouted?.map((u) => u.kind), ['error']);
});

test('process stream: a non-streamed JSON response is answered in one streamed_response chunk once complete; SSE passes through as it comes', () => {
  const parts = ['{"id":"x",', '"usage":{"prompt_tokens":1}', '}'];
  for (const routed of [true, false]) {
    const prefix = routed ? [requestHeaders({}), requestBody('{"model":"m","prompt":"x"}')] : [];
    const { sent } = run([...prefix, responseHeaders({ ':status': '200', 'content-type': 'application/json' }), ...parts.map((p, i) => responseBody(p, i === parts.length - 1))]);
    const bodies = sent.filter((m) => m.responseBody).map((m) => m.responseBody!.response!.bodyMutation!.streamedResponse!);
    assert.equal(bodies.length, 1, `routed=${routed}: one answer for the whole body`);
    assert.equal(Buffer.from(bodies[0]!.body!).toString(), parts.join(''));
    assert.equal(bodies[0]!.endOfStream, true);
  }
  const events = ['data: {"a":1}\n\n', 'data: {"a":2}\n\n', 'data: [DONE]\n\n'];
  const { sent } = run([responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }), ...events.map((e, i) => responseBody(e, i === events.length - 1))]);
  assert.deepEqual(sent.filter((m) => m.responseBody).map((m) => Buffer.from(m.responseBody!.response!.bodyMutation!.streamedResponse!.body!).toString()), events);
});

test('process stream: response trailers end a body that never said end_of_stream; an error grpc-status counts as an error', () => {
  for (const [status, want] of [['0', 'success'], ['14', 'error'], [undefined, 'success']] as const) {
    const trailers = { request: 'responseTrailers' as const, responseTrailers: { trailers: { headers: status === undefined ? [] : [{ key: 'grpc-status', rawValue: Buffer.from(status) }] } } };
    const { sent, calls } = run([requestHeaders({}, true), responseHeaders({ ':status': '200', 'content-type': 'application/json' }), responseBody('{"usage":', false), responseBody('{}}', false), trailers]);
    assert.deepEqual(kinds(sent), ['requestHeaders', 'responseHeaders', 'responseBody', 'responseTrailers'], `grpc-status ${status}`);
    assert.equal(Buffer.from(sent[2]!.responseBody!.response!.bodyMutation!.streamedResponse!.body!).toString(), '{"usage":{}}', 'the held body goes on before the trailers answer');
    assert.deepEqual(calls.completed, [want], `grpc-status ${status}`);
  }
});

test('process stream: body modes other than FULL_DUPLEX_STREAMED and BUFFERED are supported or refused clearly', () => {
  const mode = (request: number, response: number = BodySendMode.FULL_DUPLEX_STREAMED) => ({ protocolConfig: { requestBodyMode: request, responseBodyMode: response } });
  const text = (m: ProcessingResponse | undefined) => Buffer.from(m?.immediateResponse?.body ?? []).toString();
  // STREAMED / GRPC request bodies: the headers get an answer at once, a clear refusal.
  for (const m of [BodySendMode.STREAMED, BodySendMode.GRPC]) {
    const { sent, ended } = run([{ ...requestHeaders({}), ...mode(m) }]);
    assert.deepEqual(kinds(sent), ['immediateResponse'], `mode ${m}`);
    assert.equal(sent[0]!.immediateResponse!.status!.code, 500);
    assert.match(text(sent[0]), /request_body_mode (STREAMED|GRPC) is not supported: the EPP needs the whole body before it can route/);
    assert.equal(ended, 1);
    // Header-only requests route in any mode.
    assert.deepEqual(kinds(run([{ ...requestHeaders({}, true), ...mode(m) }]).sent), ['requestHeaders']);
  }
  // BUFFERED_PARTIAL: routed like BUFFERED when the body fits; a body the proxy cut short is a clear 413.
  const partial = run([{ ...requestHeaders({}), ...mode(BodySendMode.BUFFERED_PARTIAL, BodySendMode.BUFFERED_PARTIAL) }, requestBody('{"model":"m","prompt":"x"}'), responseHeaders({ ':status': '200', 'content-type': 'application/json' }), responseBody('{"usage":{"prompt_tokens":2}}', true)]);
  assert.deepEqual(kinds(partial.sent), ['requestHeaders', 'requestBody', 'responseHeaders', 'responseBody']);
  assert.equal(partial.sent[1]!.requestBody?.response?.clearRouteCache, true, 'the route rides on the body answer');
  assert.deepEqual(partial.calls.completed, ['success']);
  const cut = run([{ ...requestHeaders({}), ...mode(BodySendMode.BUFFERED_PARTIAL) }, requestBody('{"model":"m","pro', false)]);
  assert.deepEqual(kinds(cut.sent), ['requestHeaders', 'immediateResponse']);
  assert.equal(cut.sent[1]!.immediateResponse!.status!.code, 413);
  assert.match(text(cut.sent[1]), /BUFFERED_PARTIAL buffer/);
  // STREAMED response bodies: every chunk answered as it comes, unchanged; usage still read.
  const streamed = run([{ ...requestHeaders({}, true), ...mode(BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.STREAMED) }, responseHeaders({ ':status': '200', 'content-type': 'application/json' }), responseBody('{"usage":', false), responseBody('{"prompt_tokens":4}}', true)]);
  assert.deepEqual(kinds(streamed.sent), ['requestHeaders', 'responseHeaders', 'responseBody', 'responseBody']);
  assert.deepEqual(streamed.sent.slice(2).map((m) => m.responseBody!.response), [{}, {}]);
  assert.deepEqual(streamed.calls.completed, ['success']);
});
