/**
 * Child process for the server benchmark: a bare ext_proc server on grpc-js with protobufjs's generated
 * codec (as a plain Node ext_proc server would be; the EPP writes its answers with its own encoder), answering each stream exactly as the EPP does in FULL_DUPLEX_STREAMED (destination
 * header + content-length + the echoed request headers + x-request-id + envoy.lb metadata, the body back in 62,000-byte streamed_response chunks,
 * an empty response-headers answer, the response body echoed) but with no parsing, scheduling or
 * metrics: the floor a Node ext_proc server costs. Prints `{"grpcPort": n}`; exits when stdin closes.
 */
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { headerRecord, setHeader, type ProcessingRequest, type ProcessingResponse } from '../src/extproc/codec.js';
import { extProcServiceDefinition as definition } from '../src/extproc/server.js';
import { chunks, DESTINATION_HEADER, lbMetadata, SYSTEM_OWNED_HEADERS } from '../src/extproc/epp-protocol.js';
import { serveControl } from './child-control.js';
import { decodeRequest, encodeResponseWithProtobufjs, PROCESS_PATH } from '../src/extproc/codec.js';
import { BareGrpcServer, framed } from '../src/extproc/bare-grpc.js';

const DESTINATION = '127.0.0.1:8000';

const EMPTY = new Uint8Array(0);



/** What the echo needs of a stream: grpc-js's call, or the bare HTTP/2 one below. */
interface Call {
  write(m: ProcessingResponse): void;
  end(): void;
  on(event: 'data', f: (m: ProcessingRequest) => void): void;
  on(event: 'end' | 'error' | 'cancelled', f: () => void): void;
}

function process_(call: Call): void {
  let body: Uint8Array[] = [];
  let headers: Record<string, string> = {};
  let ended = false;
  const send = (m: ProcessingResponse) => {
    if (!ended) call.write(m);
  };
  call.on('data', (m: ProcessingRequest) => {
    switch (m.request) {
      case 'requestBody': {
        const chunk = m.requestBody!.body ?? EMPTY;
        if (chunk.length > 0) body.push(chunk);
        if (!m.requestBody!.endOfStream) return;
        const whole = body.length === 1 ? body[0]! : Buffer.concat(body);
        body = [];
        // As the EPP: destination, length, every request header it does not own, an x-request-id.
        const setHeaders = [setHeader(DESTINATION_HEADER, DESTINATION), setHeader('content-length', String(whole.length))];
        for (const [k, v] of Object.entries(headers)) if (!SYSTEM_OWNED_HEADERS.has(k)) setHeaders.push(setHeader(k, v));
        if (!headers['x-request-id']) setHeaders.push(setHeader('x-request-id', randomUUID()));
        send({
          requestHeaders: { response: { headerMutation: { setHeaders }, clearRouteCache: true } },
          dynamicMetadata: lbMetadata(DESTINATION),
        });
        const ps = chunks(whole);
        ps.forEach((p, i) => send({ requestBody: { response: { bodyMutation: { streamedResponse: { body: p, endOfStream: i === ps.length - 1 } } } } }));
        return;
      }
      case 'responseHeaders':
        return send({ responseHeaders: { response: {} } });
      case 'responseBody': {
        const b = m.responseBody!;
        const ps = chunks(b.body ?? EMPTY);
        ps.forEach((p, i) => send({ responseBody: { response: { bodyMutation: { streamedResponse: { body: p, endOfStream: Boolean(b.endOfStream) && i === ps.length - 1 } } } } }));
        return;
      }
      case 'responseTrailers':
        return send({ responseTrailers: {} });
      case 'requestHeaders':
        headers = headerRecord(m.requestHeaders!.headers);
        return; // answered only with the route, as the EPP does
      default:
        return; // request trailers
    }
  });
  call.on('end', () => {
    if (ended) return;
    ended = true;
    call.end();
  });
  call.on('error', () => (ended = true));
  call.on('cancelled', () => (ended = true));
}

let grpcPort: number;
if (process.argv[2] === 'http2') {
  // The same answers on the EPP's own bare HTTP/2 transport (src/extproc/bare-grpc.ts): what grpc-js itself costs.
  const server = new BareGrpcServer<ProcessingRequest, ProcessingResponse>({
    path: PROCESS_PATH,
    decode: decodeRequest,
    frame: framed(encodeResponseWithProtobufjs),
    maxRecvBytes: 64 * 1024 * 1024,
    maxSendBytes: 64 * 1024 * 1024,
    keepaliveMs: 0,
    keepaliveTimeoutMs: 0,
    onCall: process_,
  });
  grpcPort = await server.listen('127.0.0.1', 0);
} else {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  server.addService({ Process: { ...definition.Process!, responseSerialize: encodeResponseWithProtobufjs } }, { Process: process_ as (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => void });
  grpcPort = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
}
process.stdout.write(JSON.stringify({ grpcPort }) + '\n');
serveControl({});
