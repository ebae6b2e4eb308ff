/**
 * `node dist/bench/server-run.js`: the EPP (64 pods, default profile; EPP_BENCH_PODS to change) against a
 * bare ext_proc echo server, 4 KB and 400 KB prompts, driven by h2load (one prompt) and by the varied-prompt
 * client, with the ratios EPP / echo and the EPP's event-loop delay measured in this one run. Before each timed run one exchange
 * goes through a grpc-js client to check the answers (the EPP must name one of the page servers).
 */
import { DESTINATION_HEADER } from '../src/extproc/epp-protocol.js';
import * as grpc from '@grpc/grpc-js';
import { decodeResponse, encodeRequest, PROCESS_PATH, type ProcessingRequest, type ProcessingResponse } from '../src/extproc/codec.js';
import { chatBody, completionBody, exchangeMessages } from './ext-proc-frames.js';
import { DEFAULT_PODS, runServerBench, SHARED_PROMPT_BYTES, type ServerRow, type ServerTarget } from './server.bench.js';


/** One exchange; also counts the gRPC bytes received (5-byte prefix + message), as h2load's "data" does. */
function exchange(port: number, messages: readonly ProcessingRequest[], ms = 10_000): Promise<{ responses: ProcessingResponse[]; bytes: number }> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  let bytes = 0;
  const decode = (frame: Buffer) => ((bytes += 5 + frame.length), decodeResponse(frame));
  return new Promise<{ responses: ProcessingResponse[]; bytes: number }>((resolve, reject) => {
    const received: ProcessingResponse[] = [];
    const call = client.makeBidiStreamRequest(PROCESS_PATH, encodeRequest, decode);
    const timer = setTimeout(() => (call.cancel(), reject(new Error(`no end of stream from port ${port} within ${ms} ms`))), ms);
    call.on('data', (m: ProcessingResponse) => received.push(m));
    call.on('error', (e: Error) => (clearTimeout(timer), reject(e)));
    call.on('end', () => (clearTimeout(timer), resolve({ responses: received, bytes })));
    for (const m of messages) call.write(m);
    call.end();
  }).finally(() => client.close());
}

const joined = (rs: readonly ProcessingResponse[], pick: (r: ProcessingResponse) => Uint8Array | undefined) => Buffer.concat(rs.flatMap((r) => (pick(r) ? [Buffer.from(pick(r)!)] : [])));

/** Per server and size: the gRPC bytes one good exchange returns. */
const expectedBytes = new Map<string, number>();
const key = (server: string, promptKB: number) => `${server} ${promptKB} KB`;

async function check(t: ServerTarget): Promise<void> {
  const what = key(t.server, t.promptKB);
  const { responses, bytes } = await exchange(t.grpcPort, exchangeMessages(t.promptBytes));
  const first = responses[0];
  if (first?.immediateResponse) throw new Error(`${what}: immediate response ${first.immediateResponse.status?.code}: ${Buffer.from(first.immediateResponse.body ?? []).toString()}`);
  const set = first?.requestHeaders?.response?.headerMutation?.setHeaders ?? [];
  const header = set.find((s) => s.header.key === DESTINATION_HEADER);
  if (!header) throw new Error(`${what}: the first response carries no ${DESTINATION_HEADER}`);
  const destination = Buffer.from(header.header.rawValue ?? []).toString() || header.header.value || '';
  if (t.server === 'epp' && !t.podPorts.some((p) => destination === `127.0.0.1:${p}`)) throw new Error(`${what}: destination ${destination} is none of the page servers (${t.podPorts.join(', ')})`);
  const body = chatBody(t.promptBytes);
  const echoedRequest = joined(responses, (r) => r.requestBody?.response?.bodyMutation?.streamedResponse?.body);
  if (!echoedRequest.equals(body)) throw new Error(`${what}: streamed request body is ${echoedRequest.length} bytes, not the ${body.length} sent`);
  const echoedResponse = joined(responses, (r) => r.responseBody?.response?.bodyMutation?.streamedResponse?.body);
  if (!echoedResponse.equals(completionBody())) throw new Error(`${what}: streamed response body differs from the one sent`);
  expectedBytes.set(what, bytes);
  console.log(`check ${what.padEnd(12)} ${responses.length} responses, ${bytes} bytes, ${DESTINATION_HEADER}: ${destination}`);
}

const pods = Number(process.env['EPP_BENCH_PODS'] ?? DEFAULT_PODS);
const rows = await runServerBench({ beforeTimed: check, pods });

// h2load counts a gRPC error (HTTP 200, grpc-status in the trailers) as succeeded; the bytes tell them apart
// (the EPP's destination port and x-request-id may differ in length by a few bytes from one pick to the next).
const bytesOff = (r: ServerRow) => (r.client === 'h2load' ? Math.abs(r.dataBytesPerRequest - (expectedBytes.get(key(r.server, r.promptKB)) ?? 0)) : 0);
const bad = rows.filter((r) => r.failed > 0 || r.status2xx !== r.requests || r.requests === 0 || bytesOff(r) > 8);
console.log(`\nnode ${process.version}, ${process.arch}; 4 connections × 4 streams, one FULL_DUPLEX_STREAMED exchange per gRPC call; ${pods} pods scraped every 50 ms by the EPP`);
console.log(`clients: h2load (one prompt for every request) and varied (node:http2; requests share ${SHARED_PROMPT_BYTES} bytes of prompt, the rest unique)`);
console.log('server  client   prompt  requests  failed  bytes/req    req/s  CPU ms/req  net of idle  idle ms/s  loop p99 ms  loop max ms');
for (const r of rows) {
  console.log(
    `${r.server.padEnd(8)}${r.client.padEnd(7)}${`${r.promptKB} KB`.padStart(8)}${String(r.requests).padStart(10)}${String(r.failed).padStart(8)}${r.dataBytesPerRequest.toFixed(0).padStart(11)}` +
      `${r.reqPerSec.toFixed(0).padStart(9)}${r.cpuMsPerRequest.toFixed(3).padStart(12)}${r.netCpuMsPerRequest.toFixed(3).padStart(13)}${r.idleCpuMsPerSec.toFixed(1).padStart(11)}${r.loopDelayP99Ms.toFixed(1).padStart(13)}${r.loopDelayMaxMs.toFixed(1).padStart(13)}`,
  );
}
console.log('\nEPP / echo, this run:');
for (const client of [...new Set(rows.map((r) => r.client))]) {
  for (const kb of [...new Set(rows.map((r) => r.promptKB))]) {
    const echo = rows.find((r) => r.server === 'echo' && r.client === client && r.promptKB === kb);
    const epp = rows.find((r) => r.server === 'epp' && r.client === client && r.promptKB === kb);
    if (!echo || !epp) continue;
    console.log(
      `${client.padEnd(7)}${`${kb} KB`.padStart(7)}: req/s ${(epp.reqPerSec / echo.reqPerSec).toFixed(2)}x, CPU per request ${(epp.cpuMsPerRequest / echo.cpuMsPerRequest).toFixed(2)}x` +
        ` (net of idle ${(epp.netCpuMsPerRequest / echo.netCpuMsPerRequest).toFixed(2)}x), EPP event-loop delay p99 ${epp.loopDelayP99Ms.toFixed(1)} ms`,
    );
  }
}
if (bad.length > 0) {
  console.error(`\nFAILED: ${bad.map((r) => `${r.server} ${r.client} ${r.promptKB} KB (${r.failed} failed, ${r.status2xx}/${r.requests} ok, ${r.dataBytesPerRequest.toFixed(0)} bytes/request vs ${expectedBytes.get(key(r.server, r.promptKB))})`).join('; ')}`);
  process.exitCode = 1;
}
