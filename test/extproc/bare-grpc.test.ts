/**
 * The bare HTTP/2 ext_proc listener (the default --grpc-transport) speaks gRPC as grpc-js clients expect:
 * statuses for unknown methods, oversize and compressed messages, keepalive pings, grpc-timeout; and the
 * grpc-js transport stays selectable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { COPY_LIMIT, framed, grpcTimeoutMs } from '../../src/extproc/bare-grpc.js';
import { destinationOf, fakePods, requestBody, requestHeaders, startTestEpp, Stream, type TestEpp } from '../helpers/ext-proc-harness.js';
import { until } from '../helpers/until.js';

test('grpc-timeout units', () => {
  const cases: [string | undefined, number | undefined][] = [
    ['5S', 5000],
    ['100m', 100],
    ['2M', 120_000],
    ['1H', 3_600_000],
    ['1500u', 1.5],
    ['3000000n', 3],
    ['123456789S', undefined], // more than 8 digits
    ['5s', undefined],
    [undefined, undefined],
  ];
  for (const [header, want] of cases) assert.equal(grpcTimeoutMs(header), want, String(header));
});

test('framed: a message copied behind its 5-byte prefix, or its own part when larger than COPY_LIMIT', () => {
  const cases: [string, number, number][] = [
    ['empty', 0, 1],
    ['small', 10, 1],
    ['at the limit', COPY_LIMIT, 1],
    ['above it', COPY_LIMIT + 1, 2],
  ];
  for (const [name, size, parts] of cases) {
    const body = Buffer.alloc(size, 7);
    const frame = framed((m: Buffer) => m)(body);
    assert.equal(frame.length, parts, name);
    const whole = Buffer.concat(frame);
    assert.equal(whole[0], 0, `${name}: not compressed`);
    assert.equal(whole.readUInt32BE(1), size, `${name}: length prefix`);
    assert.deepEqual(whole.subarray(5), body, `${name}: the message`);
    if (parts === 2) assert.equal(frame[1], body, `${name}: the message itself, not a copy`);
  }
});

async function withEpp(args: string[], f: (t: TestEpp, pods: { hostPort: string }[]) => Promise<void>): Promise<void> {
  const fake = await fakePods([{ waiting: 0, kv: 0.1 }]);
  try {
    const t = await startTestEpp({ endpoints: fake.pods.map((p) => ({ name: p.name, port: p.port })), args });
    try {
      await f(t, fake.pods);
    } finally {
      await t.close();
    }
  } finally {
    await fake.close();
  }
}

const chat = (content: string) => requestBody(JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] }));

test('bare transport: unknown method UNIMPLEMENTED; a message over --grpc-max-recv-msg-size RESOURCE_EXHAUSTED; a compressed one UNIMPLEMENTED; nothing leaks', async () => {
  await withEpp(['--grpc-max-recv-msg-size=2Ki'], async (t, pods) => {
    const unknown = await new Promise<grpc.ServiceError | null>((resolve) =>
      t.client.makeUnaryRequest('/envoy.service.ext_proc.v3.ExternalProcessor/Nope', (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0), (err) => resolve(err)),
    );
    assert.equal(unknown?.code, grpc.status.UNIMPLEMENTED);
    assert.match(unknown!.details, /unknown method/);

    const big = new Stream(t.client).send(requestHeaders({})).send(chat('x'.repeat(4096)));
    await until(() => big.ended, 'the oversize stream to end');
    assert.equal(big.error?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(big.error!.details, /received message larger than max \(\d+ vs\. 2048\)/);

    const compressing = new grpc.Client(`127.0.0.1:${t.epp.grpcPort}`, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
    const gz = new Stream(compressing).send(requestHeaders({})).send(chat('hello'));
    await until(() => gz.ended, 'the compressed stream to end');
    compressing.close();
    assert.equal(gz.error?.code, grpc.status.UNIMPLEMENTED);
    assert.match(gz.error!.details, /compressed messages are not supported/);

    const ok = new Stream(t.client).send(requestHeaders({})).send(chat('hello'));
    await ok.responses(1);
    assert.equal(destinationOf(ok.received), pods[0]!.hostPort, 'the listener still routes');
    ok.cancel();
    await until(() => t.epp.extProc.openStreams === 0 && t.epp.tracker.totalInFlight() === 0, 'no stream or request left');
  });
});

test('bare transport: a body chunk above the copy limit goes out whole in parts; an answer over --grpc-max-send-msg-size is RESOURCE_EXHAUSTED', async () => {
  await withEpp(['--grpc-max-send-msg-size=24Ki'], async (t) => {
    const content = 'y'.repeat(20 * 1024); // its streamed_response chunk is framed as parts (COPY_LIMIT is 16 KiB)
    const fits = new Stream(t.client).send(requestHeaders({})).send(chat(content));
    await fits.responses(2);
    const echoed = Buffer.from(fits.received[1]!.requestBody!.response!.bodyMutation!.streamedResponse!.body!);
    assert.equal(echoed.toString(), JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] }), 'the body comes back byte for byte');
    fits.cancel();

    const over = new Stream(t.client).send(requestHeaders({})).send(chat('z'.repeat(30 * 1024)));
    await until(() => over.ended, 'the stream whose answer is too large to end');
    assert.equal(over.error?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(over.error!.details, /sent message larger than max \(\d+ vs\. 24576\)/);
    await until(() => t.epp.extProc.openStreams === 0 && t.epp.tracker.totalInFlight() === 0, 'no stream or request left');
  });
});

test('bare transport: an idle connection is pinged every --grpc-keepalive-time', async () => {
  await withEpp(['--grpc-keepalive-time=50ms', '--grpc-keepalive-timeout=1s'], async (t) => {
    const session = http2.connect(`http://127.0.0.1:${t.epp.grpcPort}`);
    let pings = 0;
    session.on('ping', () => pings++);
    try {
      await until(() => pings >= 2, 'two keepalive pings');
    } finally {
      session.close();
    }
  });
});

test('--grpc-transport=grpc-js still serves the same answers', async () => {
  await withEpp(['--grpc-transport=grpc-js'], async (t, pods) => {
    const s = new Stream(t.client).send(requestHeaders({})).send(chat('hello'));
    await s.responses(1);
    assert.equal(destinationOf(s.received), pods[0]!.hostPort);
    s.cancel();
    await until(() => t.epp.extProc.openStreams === 0, 'the stream closed');
  });
});
