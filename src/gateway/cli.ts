#!/usr/bin/env node
/**
 * `epp-gateway`: the demo gateway as its own command, to put curl traffic through a standalone EPP without
 * Envoy (an HTTP/1.1 ext_proc client of the EPP and reverse proxy to the pod it picks; demo only).
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { flagUsage, parseGoFlags, type FlagSpec } from '../go-flags.js';
import { runCli } from '../run-cli.js';
import { versionLine } from '../version.js';
import { ConfigError } from '../errors.js';
import { startGateway } from './gateway.js';

const FLAGS = {
  port: { kind: 'int', default: '8080', help: 'Port the gateway listens on (0 picks a free one).' },
  host: { kind: 'string', default: '127.0.0.1', help: 'Interface the gateway listens on.' },
  epp: { kind: 'string', default: 'localhost:9002', help: "The EPP's ext_proc address (host:port)." },
  'epp-tls': { kind: 'bool', default: 'true', help: 'Talk TLS to the EPP (its --secure-serving, on by default).' },
  'epp-ca-file': { kind: 'string', default: '', help: "PEM certificate(s) to verify the EPP's certificate with; without it the certificate is not verified (the EPP's default one is self-signed at start)." },
  'epp-server-name': { kind: 'string', default: '', help: 'Name to verify the certificate against, when it differs from the --epp host.' },
} as const satisfies Record<string, FlagSpec>;

function credentials(tls: boolean, caFile: string, serverName: string): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if (!caFile) return grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false });
  let ca: Buffer;
  try {
    ca = readFileSync(caFile);
  } catch (err) {
    throw new ConfigError('--epp-ca-file', `cannot read "${caFile}": ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  return grpc.credentials.createSsl(ca, null, null, serverName ? { checkServerIdentity: (_host, cert) => (cert.subject?.CN === serverName ? undefined : new Error(`certificate is for ${cert.subject?.CN}, not ${serverName}`)) } : {});
}

await runCli('epp-gateway', async () => {
  const { values, help, version } = parseGoFlags(process.argv.slice(2), FLAGS);
  if (help) return void process.stdout.write(flagUsage('epp-gateway', FLAGS));
  if (version) return void process.stdout.write(versionLine('epp-gateway'));
  const tls = values.get('epp-tls') === true;
  const target = String(values.get('epp'));
  const log = { info: (m: string) => process.stderr.write(`${m}\n`), warn: (m: string) => process.stderr.write(`${m}\n`) };
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  try {
    gateway = await startGateway({ port: Number(values.get('port')), host: String(values.get('host')), eppTarget: target, credentials: credentials(tls, String(values.get('epp-ca-file')), String(values.get('epp-server-name'))), log });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('--port', `cannot listen on ${values.get('host')}:${values.get('port')}: ${(err as Error).message}`);
  }
  process.stdout.write(`epp-gateway on http://${values.get('host')}:${gateway.port} → EPP at ${target} (${tls ? (values.get('epp-ca-file') ? 'TLS, verified' : 'TLS, certificate not verified') : 'plaintext'})\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await gateway.close();
});
