import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { PROCESS_PATH, encodeRequest, decodeRequest, encodeResponse, decodeResponse, headerRecord, setHeader, type ProcessingRequest, type ProcessingResponse } from '../../src/extproc/codec.js';
import { startSimPool, type SimPool } from '../../src/sim/server.js';
import { startGateway } from '../../src/gateway/gateway.js';

const quiet = { info: () => undefined, warn: () => undefined };

interface FakeEpp {
  target: string;
  seen: ProcessingRequest[];
  cancelled: number;
  close(): Promise<void>;
}

/** A fake EPP speaking the EPP protocol: picks `destination`, echoes bodies as streamed_response chunks. */
async function startFakeEpp(destination: string, mode: 'pick' | 'shed' = 'pick'): Promise<FakeEpp> {
  const seen: ProcessingRequest[] = [];
  const server = new grpc.Server();
  const fake: FakeEpp = { target: '', seen, cancelled: 0, close: async () => undefined };
  const service = {
    Process: { path: PROCESS_PATH, requestStream: true, responseStream: true, requestSerialize: encodeRequest, requestDeserialize: decodeRequest, responseSerialize: encodeResponse, responseDeserialize: decodeResponse, originalName: 'process' },
  } as unknown as grpc.ServiceDefinition;
  server.addService(service, {
    Process: (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
      const body: Buffer[] = [];
      const pick = (): void => {
        const full = Buffer.concat(body);
        if (mode === 'shed') {
          call.write({ immediateResponse: { status: { code: 429 }, body: Buffer.from('shed') } });
          call.end();
          return;
        }
        call.write({
          requestHeaders: { response: { clearRouteCache: true, headerMutation: { setHeaders: [setHeader('x-gateway-destination-endpoint', destination), setHeader('Content-Length', String(full.length))] } } },
          dynamicMetadata: { fields: { 'envoy.lb': { structValue: { fields: { 'x-gateway-destination-endpoint': { stringValue: destination } } } } } },
        });
        if (body.length === 0 && full.length === 0) return;
        const half = Math.ceil(full.length / 2); // two chunks: the gateway must join them
        call.write({ requestBody: { response: { bodyMutation: { streamedResponse: { body: full.subarray(0, half), endOfStream: false } } } } });
        call.write({ requestBody: { response: { bodyMutation: { streamedResponse: { body: full.subarray(half), endOfStream: true } } } } });
      };
      call.on('data', (msg: ProcessingRequest) => {
        seen.push(msg);
        if (msg.requestHeaders) {
          if (msg.requestHeaders.endOfStream) pick();
        } else if (msg.requestBody) {
          if (msg.requestBody.body?.length) body.push(Buffer.from(msg.requestBody.body));
          if (msg.requestBody.endOfStream) pick();
        } else if (msg.responseHeaders) {
          call.write({ responseHeaders: { response: {} } });
        } else if (msg.responseBody) {
          call.write({ responseBody: { response: { bodyMutation: { streamedResponse: { body: msg.responseBody.body ?? Buffer.alloc(0), endOfStream: msg.responseBody.endOfStream ?? false } } } } });
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
      call.on('cancelled', () => fake.cancelled++);
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  fake.target = `127.0.0.1:${port}`;
  fake.close = () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())).then(() => server.forceShutdown());
  return fake;
}

async function withGateway(mode: 'pick' | 'shed', fn: (url: string, pool: SimPool, epp: FakeEpp, dest: string) => Promise<void>): Promise<void> {
  const pool = await startSimPool(1);
  const sim = pool.servers[0]!;
  const dest = `127.0.0.1:${sim.port}`;
  let epp: FakeEpp | undefined;
  let gw: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    epp = await startFakeEpp(dest, mode);
    gw = await startGateway({ port: 0, eppTarget: epp.target, credentials: grpc.credentials.createInsecure(), log: quiet });
    await fn(`http://127.0.0.1:${gw.port}`, pool, epp, dest);
  } finally {
    await gw?.close();
    await epp?.close();
    await pool.close();
  }
}

const chat = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 4, ...extra });

test('a chat completion goes through the EPP to the sim server and comes back with the destination header', async () => {
  await withGateway('pick', async (url, pool, epp, dest) => {
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chat() });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-gateway-destination-endpoint'), dest);
    const json = (await r.json()) as { object: string; choices: { message: { content: string } }[] };
    assert.equal(json.object, 'chat.completion');
    assert.match(json.choices[0]!.message.content, /tok0/);
    assert.equal(pool.servers[0]!.engine.stats.success, 1);
    const first = epp.seen[0]!;
    assert.ok(first.requestHeaders && !first.requestHeaders.endOfStream);
    assert.equal(first.protocolConfig?.requestBodyMode, 4);
    assert.equal(first.protocolConfig?.responseBodyMode, 4);
    const h = headerRecord(first.requestHeaders.headers);
    assert.equal(h[':method'], 'POST');
    assert.equal(h[':path'], '/v1/chat/completions');
    assert.equal(h[':scheme'], 'http');
    assert.ok(h[':authority']?.startsWith('127.0.0.1:'));
    assert.ok(first.requestHeaders.headers?.headers?.every((v) => v.rawValue && v.rawValue.length > 0 && !v.value));
    const lastBody = epp.seen.filter((m) => m.requestBody).at(-1)!;
    assert.equal(lastBody.requestBody!.endOfStream, true);
    const status = epp.seen.find((m) => m.responseHeaders)!;
    assert.equal(headerRecord(status.responseHeaders!.headers)[':status'], '200');
    assert.equal(epp.seen.filter((m) => m.responseBody).at(-1)!.responseBody!.endOfStream, true);
  });
});

test('a header-only GET is picked at once and proxied', async () => {
  await withGateway('pick', async (url, _pool, epp) => {
    const r = await fetch(`${url}/v1/models`);
    assert.equal(r.status, 200);
    const json = (await r.json()) as { data: { id: string }[] };
    assert.equal(json.data[0]!.id, 'sim-model');
    assert.equal(epp.seen[0]!.requestHeaders?.endOfStream, true);
    assert.equal(epp.seen.filter((m) => m.requestBody).length, 0);
  });
});

test('a streaming request comes back as SSE', async () => {
  await withGateway('pick', async (url) => {
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chat({ stream: true, max_tokens: 8, stream_options: { include_usage: true } }) });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.equal(r.headers.get('content-length'), null);
    const text = await r.text();
    const events = text.split('\n\n').filter((e) => e.startsWith('data: '));
    assert.equal(events.at(-1), 'data: [DONE]');
    assert.ok(events.length >= 10, text);
    assert.match(text, /"usage"/);
  });
});

test('an immediate_response 429 from the EPP reaches the client and nothing reaches the pod', async () => {
  await withGateway('shed', async (url, pool) => {
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chat() });
    assert.equal(r.status, 429);
    assert.equal(await r.text(), 'shed');
    assert.equal(pool.servers[0]!.engine.stats.success, 0);
    assert.equal(pool.servers[0]!.engine.running + pool.servers[0]!.engine.waiting.length, 0);
  });
});

test('an unreachable EPP is a 502 naming the problem', async () => {
  const spare = net.createServer();
  const port = await new Promise<number>((resolve) => spare.listen(0, '127.0.0.1', () => resolve((spare.address() as net.AddressInfo).port)));
  await new Promise<void>((resolve) => spare.close(() => resolve()));
  const gw = await startGateway({ port: 0, eppTarget: `127.0.0.1:${port}`, credentials: grpc.credentials.createInsecure(), log: quiet });
  try {
    const r = await fetch(`http://127.0.0.1:${gw.port}/v1/chat/completions`, { method: 'POST', body: chat() });
    assert.equal(r.status, 502);
    assert.match(await r.text(), /EPP/);
  } finally {
    await gw.close();
  }
});

test('an unreachable pod is a 502 naming the pod', async () => {
  const spare = net.createServer();
  const port = await new Promise<number>((resolve) => spare.listen(0, '127.0.0.1', () => resolve((spare.address() as net.AddressInfo).port)));
  await new Promise<void>((resolve) => spare.close(() => resolve()));
  const epp = await startFakeEpp(`127.0.0.1:${port}`);
  let gw: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    gw = await startGateway({ port: 0, eppTarget: epp.target, credentials: grpc.credentials.createInsecure(), log: quiet });
    const r = await fetch(`http://127.0.0.1:${gw.port}/v1/chat/completions`, { method: 'POST', body: chat() });
    assert.equal(r.status, 502);
    assert.match(await r.text(), new RegExp(`pod 127\\.0\\.0\\.1:${port}`));
  } finally {
    await gw?.close();
    await epp.close();
  }
});

test('a client that disconnects mid-stream cancels the ext_proc stream', async () => {
  await withGateway('pick', async (url, pool, epp) => {
    const ac = new AbortController();
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: chat({ stream: true, max_tokens: 400 }), signal: ac.signal });
    const reader = r.body!.getReader();
    const first = await reader.read();
    assert.match(Buffer.from(first.value!).toString(), /^data: /);
    ac.abort();
    await reader.read().catch(() => undefined);
    const deadline = Date.now() + 2000;
    while (epp.cancelled === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(epp.cancelled, 1, 'the EPP saw the stream cancelled');
    assert.ok(pool.servers[0]!.engine.stats.success <= 1);
  });
});
