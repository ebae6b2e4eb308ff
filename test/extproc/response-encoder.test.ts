import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { ProcessingResponseType, setHeader, type ProcessingResponse } from '../../src/extproc/codec.js';
import { encodeProcessingResponse, frameProcessingResponse } from '../../src/extproc/response-encoder.js';
import { COPY_LIMIT } from '../../src/extproc/bare-grpc.js';
import { lbMetadata } from '../../src/extproc/epp-protocol.js';
import { GOLDEN, toObjectOptions } from '../helpers/golden.js';

const viaProtobufjs = (m: ProcessingResponse) => ProcessingResponseType.encode(m as unknown as protobuf.Message).finish();
const read = (bytes: Uint8Array) => ProcessingResponseType.toObject(ProcessingResponseType.decode(bytes), { ...toObjectOptions, defaults: true });

const big = Buffer.alloc(COPY_LIMIT + 100, 0x61);
const cases: [string, ProcessingResponse][] = [
  ['routing answer', {
    requestHeaders: { response: { headerMutation: { setHeaders: [setHeader('x-gateway-destination-endpoint', '10.0.0.7:8000'), setHeader('content-length', '4096'), setHeader('hi', 'mom')] }, clearRouteCache: true } },
    dynamicMetadata: lbMetadata('10.0.0.7:8000'),
  }],
  ['continue (an empty CommonResponse is present)', { responseHeaders: { response: {} } }],
  ['headers answer without a CommonResponse', { responseHeaders: {} }],
  ['streamed chunk, not the last', { requestBody: { response: { bodyMutation: { streamedResponse: { body: Buffer.from('{"model":"m"}'), endOfStream: false } } } } }],
  ['streamed chunk, last and empty', { responseBody: { response: { bodyMutation: { streamedResponse: { body: new Uint8Array(0), endOfStream: true } } } } }],
  ['body replaced by nothing (oneof member set, empty)', { requestBody: { response: { status: 1, bodyMutation: { body: new Uint8Array(0) } } } }],
  ['clear_body false is still the chosen member', { requestBody: { response: { bodyMutation: { clearBody: false } } } }],
  ['trailers answers', { responseTrailers: {} }],
  ['request trailers with a mutation', { requestTrailers: { headerMutation: { setHeaders: [setHeader('a', 'b')], removeHeaders: ['x-drop', ''] } } }],
  ['immediate response', { immediateResponse: { status: { code: 429 }, headers: { setHeaders: [setHeader('content-type', 'text/plain; charset=utf-8')] }, body: Buffer.from('inference error: too many'), details: 'EVICTED', grpcStatus: { status: 14 } } }],
  ['immediate response with zero codes', { immediateResponse: { status: { code: 0 }, grpcStatus: { status: 0 } } }],
  ['string values, non-ASCII and long', { responseHeaders: { response: { headerMutation: { setHeaders: [{ header: { key: 'x-ünï', value: 'grüße ✓' }, appendAction: 1 }, { header: { key: 'x-long', value: 'v'.repeat(300) } }] } } } }],
  ['every Struct value kind', { requestHeaders: { response: {} }, dynamicMetadata: { fields: { ns: { structValue: { fields: { n: { numberValue: -1.5 }, z: { numberValue: 0 }, s: { stringValue: '' }, b: { boolValue: false }, nul: { nullValue: 0 }, l: { listValue: { values: [{ stringValue: 'é' }, { numberValue: 2 }, { listValue: { values: [] } }] } }, e: { structValue: {} } } } } } } }],
  ['a body chunk above the copy limit', { responseBody: { response: { bodyMutation: { streamedResponse: { body: big, endOfStream: true } } } } }],
  ['a header value above the copy limit', { requestHeaders: { response: { headerMutation: { setHeaders: [setHeader('x-big', big.toString())] } } } }],
];

for (const [name, message] of cases) {
  test(`hand encoder: ${name} decodes as protobufjs's encoding does`, () => {
    assert.deepEqual(read(encodeProcessingResponse(message)), read(viaProtobufjs(message)));
  });
  test(`hand encoder: ${name} as a gRPC frame is the 5-byte prefix and the same message`, () => {
    const message_ = encodeProcessingResponse(message);
    const frame = Buffer.concat(frameProcessingResponse(message));
    assert.equal(frame[0], 0);
    assert.equal(frame.readUInt32BE(1), message_.length);
    assert.deepEqual(frame.subarray(5), message_);
  });
}

test('hand encoder: a big body chunk travels as its own part, not copied', () => {
  const parts = frameProcessingResponse(cases.find(([n]) => n === 'a body chunk above the copy limit')![1]);
  assert.equal(parts.length, 3, 'what precedes the body, the body, end_of_stream');
  assert.equal(parts[1], big, 'the body itself, not a copy');
  const small = frameProcessingResponse({ responseBody: { response: { bodyMutation: { streamedResponse: { body: Buffer.alloc(COPY_LIMIT - 1) } } } } });
  assert.equal(small.length, 1, 'below the limit the frame is one buffer');
});

test('hand encoder: proto3 canonical bytes, the same as protobufjs where it writes no defaults', () => {
  for (const [name, m] of cases.slice(0, 2)) assert.deepEqual(encodeProcessingResponse(m), Buffer.from(viaProtobufjs(m)), name);
});

// Envoy's own encodings of responses, decoded by protobufjs (defaults on the prototype) and re-encoded here.
const responses = readdirSync(GOLDEN).filter((f) => f.endsWith('.bin')).map((f) => f.slice(0, -4)).filter((n) => !n.startsWith('request_') && n !== 'response_headers' && n !== 'response_body');
test('golden responses are here', () => assert.ok(responses.length >= 4, responses.join()));
for (const name of responses) {
  test(`hand encoder: golden ${name} re-encodes to Envoy's fields`, () => {
    const bytes = readFileSync(`${GOLDEN}${name}.bin`);
    const decoded = ProcessingResponseType.decode(bytes) as unknown as ProcessingResponse;
    assert.deepEqual(read(encodeProcessingResponse(decoded)), read(bytes));
  });
}
