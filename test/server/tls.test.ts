import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { serverCredentials, generateSelfSigned } from '../../src/server/tls.js';
import { HealthService, ServingStatus, healthServiceDefinition } from '../../src/server/health.js';
import { ConfigError } from '../../src/errors.js';

const HealthClient = grpc.makeGenericClientConstructor(healthServiceDefinition, 'Health');

/** Starts a health server with `credentials`, makes one TLS Check to localhost trusting `pem`. */
async function checkOverTls(credentials: grpc.ServerCredentials, pem: string): Promise<number | undefined> {
  const server = new grpc.Server();
  const health = new HealthService(() => true);
  health.addTo(server);
  let client: grpc.Client | undefined;
  try {
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = new HealthClient(`localhost:${port}`, grpc.credentials.createSsl(Buffer.from(pem)));
    const c = client;
    const res = await new Promise<{ status?: number }>((resolve, reject) => {
      (c as unknown as Record<string, Function>).Check({ service: 'readiness' }, { deadline: Date.now() + 5000 }, (err: Error | null, r: { status?: number }) =>
        err ? reject(err) : resolve(r),
      );
    });
    return res.status;
  } finally {
    client?.close();
    health.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
}

test('insecure: no certificate', async () => {
  const res = await serverCredentials({ secure: false, certPath: '' });
  assert.equal(res.certificatePem, undefined);
  assert.equal(res.credentials._isSecure(), false);
});

test('secure without certPath: a self-signed certificate that a TLS client trusting it accepts', async () => {
  const { credentials, certificatePem } = await serverCredentials({ secure: true, certPath: '' });
  assert.ok(certificatePem?.startsWith('-----BEGIN CERTIFICATE-----'));
  assert.equal(credentials._isSecure(), true);
  assert.equal(await checkOverTls(credentials, certificatePem!), ServingStatus.SERVING);
});

test('self-signed certificate: CN epp, SAN localhost and 127.0.0.1, valid about 10 years', async () => {
  const { X509Certificate } = await import('node:crypto');
  const { cert } = await generateSelfSigned();
  const x = new X509Certificate(cert);
  assert.match(x.subject, /CN=epp/);
  assert.match(x.subjectAltName ?? '', /DNS:localhost/);
  assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  const years = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / (365.25 * 24 * 3600 * 1000);
  assert.ok(years > 9.9 && years < 10.1, `validity ${years} years`);
});

test('secure with a missing certPath folder → ConfigError naming the file', async () => {
  const dir = path.join(os.tmpdir(), `epp-no-such-dir-${process.pid}`);
  await assert.rejects(serverCredentials({ secure: true, certPath: dir }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.path, '--cert-path');
    assert.equal(err.message, `--cert-path: cannot read ${path.join(dir, 'tls.crt')}: ENOENT`);
    return true;
  });
});

test('secure with certPath missing only tls.key → ConfigError naming tls.key', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'epp-tls-'));
  try {
    const { cert } = await generateSelfSigned();
    await writeFile(path.join(dir, 'tls.crt'), cert);
    await assert.rejects(serverCredentials({ secure: true, certPath: dir }), {
      name: 'ConfigError',
      message: `--cert-path: cannot read ${path.join(dir, 'tls.key')}: ENOENT`,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('secure with certPath holding tls.crt/tls.key → serves TLS with that certificate', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'epp-tls-'));
  try {
    const { cert, key } = await generateSelfSigned();
    await writeFile(path.join(dir, 'tls.crt'), cert);
    await writeFile(path.join(dir, 'tls.key'), key);
    const { credentials, certificatePem } = await serverCredentials({ secure: true, certPath: dir });
    assert.equal(certificatePem, cert);
    assert.equal(await checkOverTls(credentials, cert), ServingStatus.SERVING);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
