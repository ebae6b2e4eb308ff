/**
 * What the EPP sends, encoded and decoded again, carries the fields of the golden messages an Endpoint
 * Picker sends (encoded with Envoy's own definitions): the routing answer, the streamed body, the
 * response-trailers answer and an ImmediateResponse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Director } from '../../src/director/director.js';
import { decodeRequest, encodeResponse, ProcessingResponseType, type ProcessingRequest, type ProcessingResponse } from '../../src/extproc/codec.js';
import { ProcessStream } from '../../src/extproc/process-stream.js';
import { EppError, ErrorCodes } from '../../src/errors.js';
import { assertHas, GOLDEN, normalise, toObjectOptions } from '../helpers/golden.js';
import { stubDirector } from '../helpers/stub-director.js';

const golden = (name: string) => normalise(JSON.parse(readFileSync(`${GOLDEN}${name}.json`, 'utf8')));
const goldenRequest = (name: string) => decodeRequest(readFileSync(`${GOLDEN}${name}.bin`));
const onTheWire = (m: ProcessingResponse) => ProcessingResponseType.toObject(ProcessingResponseType.decode(encodeResponse(m)), toObjectOptions);

/** The routing answer with its set_headers in key order: their order carries no meaning (golden README). */
function sortedSetHeaders(m: unknown): unknown {
  const set = (m as { requestHeaders: { response: { headerMutation: { setHeaders: { header: { key: string } }[] } } } }).requestHeaders.response.headerMutation.setHeaders;
  set.sort((a, b) => (a.header.key < b.header.key ? -1 : a.header.key > b.header.key ? 1 : 0));
  return m;
}

/** Feeds golden requests by name (or messages built here) to one stream; returns what it sent. */
function drive(director: Director, messages: (string | ProcessingRequest)[]): ProcessingResponse[] {
  const sent: ProcessingResponse[] = [];
  const stream = new ProcessStream(director, { send: (m) => sent.push(m), end: () => {} });
  for (const m of messages) stream.onMessage(typeof m === 'string' ? goldenRequest(m) : m);
  return sent;
}

test('server output: the routing answer and the streamed body match the golden route_response and body_response', () => {
  const sent = drive(stubDirector(), ['request_headers', 'request_body']);
  assert.equal(sent.length, 2);
  assertHas(sortedSetHeaders(onTheWire(sent[0]!)), sortedSetHeaders(golden('route_response')), 'route_response');
  assertHas(onTheWire(sent[1]!), golden('body_response'), 'body_response');
});

test('server output: request trailers get no answer; response trailers get the golden empty TrailersResponse', () => {
  const sent = drive(stubDirector(), ['request_headers', 'request_body', 'request_trailers', 'response_headers', { request: 'responseTrailers', responseTrailers: {} }]);
  assert.equal(sent.length, 4, 'routing, body, response headers, response trailers: nothing for request trailers');
  assertHas(onTheWire(sent[3]!), golden('response_trailers_response'), 'response_trailers_response');
  assert.deepEqual(Object.keys(onTheWire(sent[3]!)), ['responseTrailers', 'response']);
});

test('server output: a shed request is one ImmediateResponse with the golden status', () => {
  const sent = drive(stubDirector(new EppError(ErrorCodes.SHED, 'system saturated, sheddable request dropped')), ['request_headers', 'request_body']);
  assert.equal(sent.length, 1);
  const wire = onTheWire(sent[0]!) as { immediateResponse: { status: { code: string }; body: string } };
  const want = golden('immediate_response') as { immediateResponse: { status: { code: string } } };
  assert.equal(wire.immediateResponse.status.code, want.immediateResponse.status.code);
  assert.equal(Buffer.from(wire.immediateResponse.body, 'base64').toString(), 'inference error: InferencePoolResourceExhausted - system saturated, sheddable request dropped');
});
