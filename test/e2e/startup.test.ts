/** Start-up errors: each names its culprit, and a failed start leaves nothing running. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEpp } from '../../src/epp.js';
import { parseArgs } from '../../src/cli.js';
import { createLogger } from '../../src/observability/logger.js';
import { ConfigError } from '../../src/errors.js';

const quiet = createLogger(0, { write: () => true } as unknown as NodeJS.WritableStream);
const dir = mkdtempSync(join(tmpdir(), 'epp-start-'));
const badResources = join(dir, 'resources.yaml');
writeFileSync(badResources, 'apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferencePool\nmetadata: {name: x}\n');

/** A free port, then released: a failed start must leave it free. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const cases: { name: string; args: string[]; message: RegExp }[] = [
  { name: 'a parser ref to a scorer', args: ['--config-text', 'plugins:\n- type: queue-scorer\nparser: {pluginRef: queue-scorer}\n'], message: /^--config-text:3: parser\.pluginRef: plugin "queue-scorer" \(queue-scorer\) is not a request parser$/ },
  { name: 'a saturation detector ref to a picker', args: ['--config-text', 'plugins:\n- type: max-score-picker\nsaturationDetector: {pluginRef: max-score-picker}\n'], message: /^--config-text:3: saturationDetector\.pluginRef: plugin "max-score-picker" \(max-score-picker\) is not a saturation detector$/ },
  { name: 'a bad resources file', args: ['--resources-file', badResources], message: /InferencePool/ },
  { name: 'a missing certificate folder', args: ['--secure-serving=true', `--cert-path=${join(dir, 'nope')}`], message: /^--cert-path: cannot read .*tls\.crt/ },
];

for (const c of cases) {
  test(`startup: ${c.name} is a ConfigError naming it, and nothing stays listening`, async () => {
    const grpcPort = await freePort();
    const args = ['--secure-serving=false', `--grpc-port=${grpcPort}`, '--grpc-health-port=0', '--metrics-port=0', ...c.args];
    await assert.rejects(startEpp(parseArgs(args), quiet, { host: '127.0.0.1' }), (err: Error) => err instanceof ConfigError && c.message.test(err.message));
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(grpcPort, '127.0.0.1', resolve));
    await new Promise((r) => again.close(r));
  });
}

test('startup: a metrics port already in use is an error naming the flag, and the gRPC servers that had bound are shut again', async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const metricsPort = (busy.address() as net.AddressInfo).port;
  const grpcPort = await freePort();
  try {
    const args = ['--secure-serving=false', `--grpc-port=${grpcPort}`, '--grpc-health-port=0', `--metrics-port=${metricsPort}`];
    await assert.rejects(startEpp(parseArgs(args), quiet, { host: '127.0.0.1' }), (err: Error) => err instanceof ConfigError && new RegExp(`^--metrics-port: cannot listen on 127\\.0\\.0\\.1:${metricsPort}: .*EADDRINUSE`).test(err.message));
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(grpcPort, '127.0.0.1', resolve));
    await new Promise((r) => again.close(r));
  } finally {
    await new Promise((r) => busy.close(r));
  }
});
