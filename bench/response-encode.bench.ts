/**
 * The EPP's answers encoded: the hand encoder (src/extproc/response-encoder.ts) against protobufjs's
 * generated one, on the messages every 4 KB request sends (the routing answer with 8 echoed headers and
 * the envoy.lb metadata, the body back as one streamed chunk, the empty response-headers answer). Both
 * encodings decode to the same message (checked before timing).
 */
import { Bench } from 'tinybench';
import { encodeResponseWithProtobufjs, ProcessingResponseType, setHeader, type ProcessingResponse } from '../src/extproc/codec.js';
import { encodeProcessingResponse, frameProcessingResponse } from '../src/extproc/response-encoder.js';
import { lbMetadata } from '../src/extproc/epp-protocol.js';

export interface EncodeRow {
  message: string;
  bytes: number;
  handNs: number;
  protobufjsNs: number;
}

function routingAnswer(): ProcessingResponse {
  const headers: [string, string][] = [
    ['x-gateway-destination-endpoint', '10.0.0.17:8000'], ['content-length', '4127'], [':method', 'POST'], [':path', '/v1/completions'],
    [':authority', 'gateway.example'], [':scheme', 'http'], ['content-type', 'application/json'], ['user-agent', 'bench/1.0'], ['x-request-id', '6f1c3c0e-5b1e-4b7e-9f0a-3c2d1e0f9a8b'],
  ];
  return { requestHeaders: { response: { headerMutation: { setHeaders: headers.map(([k, v]) => setHeader(k, v)) }, clearRouteCache: true } }, dynamicMetadata: lbMetadata('10.0.0.17:8000') };
}

export async function runResponseEncodeBench(): Promise<EncodeRow[]> {
  const messages: [string, ProcessingResponse][] = [
    ['routing answer', routingAnswer()],
    ['4 KB body chunk', { requestBody: { response: { bodyMutation: { streamedResponse: { body: Buffer.alloc(4096, 0x61), endOfStream: true } } } } }],
    ['response headers answer', { responseHeaders: { response: {} } }],
  ];
  const rows: EncodeRow[] = [];
  for (const [name, m] of messages) {
    const hand = encodeProcessingResponse(m);
    const same = JSON.stringify(ProcessingResponseType.toObject(ProcessingResponseType.decode(hand), { defaults: true, bytes: String }));
    const want = JSON.stringify(ProcessingResponseType.toObject(ProcessingResponseType.decode(encodeResponseWithProtobufjs(m)), { defaults: true, bytes: String }));
    if (same !== want) throw new Error(`${name}: the hand encoder disagrees with protobufjs`);
    const bench = new Bench({ time: 400, warmupTime: 100 });
    bench.add('hand', () => frameProcessingResponse(m));
    bench.add('protobufjs', () => encodeResponseWithProtobufjs(m));
    await bench.run();
    const [h, p] = bench.tasks.map((t) => (t.result as unknown as { latency: { mean: number } }).latency.mean * 1e6);
    rows.push({ message: name, bytes: hand.length, handNs: h!, protobufjsNs: p! });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('message                   bytes   hand ns   protobufjs ns');
  for (const r of await runResponseEncodeBench()) console.log(`${r.message.padEnd(24)} ${String(r.bytes).padStart(6)} ${r.handNs.toFixed(0).padStart(9)} ${r.protobufjsNs.toFixed(0).padStart(15)}`);
}
