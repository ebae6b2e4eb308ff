/**
 * The ext_proc listener over TLS through the whole EPP (generated and provided certificates), a
 * certificate rotated under --enable-cert-reload while a stream is open, and graceful shutdown: SIGTERM to
 * a real process with a stream in flight (NOT_SERVING at once, the stream finishes, exit 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startEpp, type RunningEpp } from '../../src/epp.js';
import { parseArgs } from '../../src/cli.js';
import { createLogger } from '../../src/observability/logger.js';
import { DEFAULT_CONFIG_TEXT } from '../../src/config/defaults.js';
import { generateSelfSigned } from '../../src/server/tls.js';
import { chat, destinationOf, fakePods, requestBody, requestHeaders, responseBody, responseHeaders, Stream } from '../helpers/ext-proc-harness.js';
import { startEppProcess } from '../helpers/epp-process.js';
import { until } from '../helpers/until.js';

/** A config with file discovery over `ports` on 127.0.0.1. */
function fileDiscoveryConfig(ports: number[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'epp-tls-'));
  const file = join(dir, 'endpoints.yaml');
  writeFileSync(file, `endpoints: [${ports.map((p, i) => `{name: pod-${i}, address: 127.0.0.1, port: ${p}}`).join(', ')}]\n`);
  return `${DEFAULT_CONFIG_TEXT.replace(/^plugins:\n/m, `plugins:\n- type: file-discovery\n  parameters: {path: ${JSON.stringify(file)}}\n`)}\ndataLayer:\n  discovery: {pluginRef: file-discovery}\n`;
}

const quiet = () => createLogger(0, { write: () => true } as unknown as NodeJS.WritableStream);
const tlsClient = (port: number, ca: string) => new grpc.Client(`localhost:${port}`, grpc.credentials.createSsl(Buffer.from(ca)));

async function routed(client: grpc.Client): Promise<string | undefined> {
  const s = new Stream(client).send(requestHeaders({})).send(requestBody(chat('m')));
  const r = await s.responses(2);
  s.cancel();
  return s.error ? `error: ${s.error.code}` : destinationOf(r);
}

test('TLS: a generated certificate, and a provided one reloaded with a stream open that keeps working', async () => {
  const pods = await fakePods([{ waiting: 0 }]);
  const config = fileDiscoveryConfig([pods.pods[0]!.port]);
  const want = pods.pods[0]!.hostPort;
  let epp: RunningEpp | undefined;
  try {
    // Generated: the EPP serves a self-signed certificate that a client trusting it accepts.
    epp = await startEpp(parseArgs(['--config-text', config, '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0']), quiet(), { host: '127.0.0.1' });
    const generated = tlsClient(epp.grpcPort, epp.certificatePem!);
    assert.equal(await routed(generated), want);
    generated.close();
    await epp.close();

    // Provided, with reload.
    const dir = mkdtempSync(join(tmpdir(), 'epp-certs-'));
    const [a, b] = await Promise.all([generateSelfSigned(), generateSelfSigned()]);
    writeFileSync(join(dir, 'tls.crt'), a.cert);
    writeFileSync(join(dir, 'tls.key'), a.key);
    epp = await startEpp(parseArgs(['--config-text', config, `--cert-path=${dir}`, '--enable-cert-reload', '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0']), quiet(), { host: '127.0.0.1' });
    const oldClient = tlsClient(epp.grpcPort, a.cert);
    assert.equal(await routed(oldClient), want, 'the provided certificate is served');

    // A stream opens on the old certificate, then the Secret is rotated (write aside, rename over).
    const open = new Stream(oldClient).send(requestHeaders({}));
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(join(dir, 'tls.key.new'), b.key);
    writeFileSync(join(dir, 'tls.crt.new'), b.cert);
    renameSync(join(dir, 'tls.key.new'), join(dir, 'tls.key'));
    renameSync(join(dir, 'tls.crt.new'), join(dir, 'tls.crt'));
    const newClient = tlsClient(epp.grpcPort, b.cert);
    await until(async () => (await routed(newClient)) === want, 'a client trusting only the new certificate gets in', 8000);

    // The stream opened before the rotation carries on and completes.
    open.send(requestBody(chat('m')));
    const r = await open.responses(2);
    assert.equal(open.error, undefined, 'not dropped');
    assert.equal(destinationOf(r), want);
    open.send(responseHeaders({ ':status': '200', 'content-type': 'application/json' })).send(responseBody('{"usage":{}}', true));
    await open.responses(4);
    assert.equal(open.error, undefined);
    open.endSide();

    // New handshakes use the new certificate: a client trusting only the old one is refused.
    const stale = tlsClient(epp.grpcPort, a.cert);
    assert.equal(await routed(stale), `error: ${grpc.status.UNAVAILABLE}`);
    stale.close();

    // A broken pair is refused and the current certificate stays.
    writeFileSync(join(dir, 'tls.key'), 'not a key');
    await new Promise((res) => setTimeout(res, 1500));
    const again = tlsClient(epp.grpcPort, b.cert);
    assert.equal(await routed(again), want, 'the last good certificate stays');
    again.close();
    oldClient.close();
    newClient.close();
  } finally {
    await epp?.close();
    await pods.close();
  }
});

test('graceful shutdown: SIGTERM with a stream in flight → NOT_SERVING at once, the stream finishes, exit 0', async () => {
  const pods = await fakePods([{ waiting: 0 }]);
  const config = fileDiscoveryConfig([pods.pods[0]!.port]);
  const p = await startEppProcess(['--config-text', config, '--secure-serving=false', '--drain-timeout=1500ms'], {}, 60_000);
  const client = new grpc.Client(`127.0.0.1:${p.grpcPort}`, grpc.credentials.createInsecure());
  try {
    await until(async () => (await p.health('readiness')) === 1, 'ready', 10_000);
    const s = new Stream(client).send(requestHeaders({}));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    p.kill('SIGTERM');
    await until(async () => (await p.health('readiness')) === 2, 'NOT_SERVING', 3000);
    assert.equal(await p.health('liveness'), 1, 'still alive while draining');
    s.send(requestBody(chat('m')));
    assert.equal(destinationOf(await s.responses(2)), pods.pods[0]!.hostPort, 'the in-flight request is routed while draining');
    s.send(responseHeaders({ ':status': '200', 'content-type': 'application/json' })).send(responseBody('{"usage":{}}', true));
    await s.responses(4);
    s.endSide();
    await until(() => s.ended, 'the stream ends');
    assert.equal(s.error, undefined, 'finished, not cut');
    assert.equal(await p.exited, 0, 'exit 0');
    const took = Date.now() - t0;
    assert.ok(took >= 1400, `served the drain window (${took} ms)`);
  } finally {
    client.close();
    await p.close();
    await pods.close();
  }
});
