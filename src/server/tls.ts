/**
 * gRPC server credentials for the ext_proc listener: plaintext, a certificate/key pair from `--cert-path`
 * (`tls.crt` + `tls.key`, like the Go EPP), or a self-signed certificate generated at start.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../errors.js';
import { ReloadingCertificate } from './cert-reload.js';

export interface ServerCredentialsResult {
  credentials: grpc.ServerCredentials;
  /** The certificate served, as PEM (set when TLS is on), so clients can trust it. */
  certificatePem?: string;
  /** With --enable-cert-reload: the watcher (close it at shutdown). */
  reloading?: ReloadingCertificate;
  /** The certificate and key themselves (TLS on), for a listener that is not grpc-js. */
  pair?: { cert: Buffer; key: Buffer };
}

/** A self-signed certificate: RSA 2048, CN `epp`, SAN DNS `localhost` + IP `127.0.0.1`, valid 10 years. */
export async function generateSelfSigned(): Promise<{ cert: string; key: string }> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate);
  notAfterDate.setFullYear(notAfterDate.getFullYear() + 10);
  // Imported here: the library costs start-up time that a plaintext or --cert-path EPP need not pay.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'epp' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

async function readPemFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new ConfigError('--cert-path', `cannot read ${file}: ${reason}`);
  }
}

export async function serverCredentials(opts: { secure: boolean; certPath: string; reload?: { warn(m: string): void; info(m: string): void } }): Promise<ServerCredentialsResult> {
  if (!opts.secure) return { credentials: grpc.ServerCredentials.createInsecure() };
  let cert: Buffer;
  let key: Buffer;
  if (opts.certPath) {
    cert = await readPemFile(path.join(opts.certPath, 'tls.crt'));
    key = await readPemFile(path.join(opts.certPath, 'tls.key'));
  } else {
    const generated = await generateSelfSigned();
    cert = Buffer.from(generated.cert, 'utf8');
    key = Buffer.from(generated.key, 'utf8');
  }
  let credentials: grpc.ServerCredentials;
  try {
    credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }], false);
  } catch (err) {
    throw new ConfigError('--cert-path', `invalid certificate or key: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (opts.reload && opts.certPath) {
    const reloading = new ReloadingCertificate(opts.certPath, { cert, key }, opts.reload);
    return { credentials: reloading.credentials(), certificatePem: cert.toString('utf8'), reloading, pair: { cert, key } };
  }
  return { credentials, certificatePem: cert.toString('utf8'), pair: { cert, key } };
}
