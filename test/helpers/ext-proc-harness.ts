/**
 * End-to-end harness: a real EPP (startEpp, plaintext, loopback, free ports) fed by file discovery over
 * fake or simulated pods, and a real gRPC ext_proc client to drive streams the way Envoy does.
 */
import * as grpc from '@grpc/grpc-js';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startEpp, type RunningEpp } from '../../src/epp.js';
import { DEFAULT_CONFIG_TEXT } from '../../src/config/defaults.js';
import { parseArgs } from '../../src/cli.js';
import { createLogger } from '../../src/observability/logger.js';
import { BodySendMode, decodeResponse, encodeRequest, PROCESS_PATH, type ProcessingRequest, type ProcessingResponse } from '../../src/extproc/codec.js';
import { vllmPage, type PageSpec } from './vllm-page.js';
import { until } from './until.js';

export interface Pod {
  name: string;
  port: number;
  hostPort: string;
  /** Change what /metrics reports. */
  page: PageSpec;
  /** The pod dies: its server closes with every connection. */
  kill(): Promise<void>;
}

/** Model servers that only serve /metrics, with figures the test sets. */
export async function fakePods(specs: readonly PageSpec[]): Promise<{ pods: Pod[]; close(): Promise<void> }> {
  const servers: http.Server[] = [];
  const pods: Pod[] = [];
  for (const [i, spec] of specs.entries()) {
    const server = http.createServer((_req, res) => res.end(vllmPage(pod.page)));
    const pod: Pod = { name: `pod-${i}`, port: 0, hostPort: '', page: spec, kill: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    pod.port = (server.address() as AddressInfo).port;
    pod.hostPort = `127.0.0.1:${pod.port}`;
    servers.push(server);
    pods.push(pod);
  }
  return { pods, close: async () => void (await Promise.all(servers.filter((s) => s.listening).map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))))) };
}

export interface TestEpp {
  epp: RunningEpp;
  client: grpc.Client;
  /** The --resources-file written for the test, when one was given (edit it to test reloads). */
  resourcesFile: string | undefined;
  close(): Promise<void>;
}

/** An EPP over `endpoints` (name + port on 127.0.0.1); `config` starts with its `plugins:` list, to which file discovery is added. */
export async function startTestEpp(o: { endpoints: readonly { name: string; port: number; address?: string; labels?: Readonly<Record<string, string>> }[]; config?: string; resources?: string; maxBodyBytes?: number; args?: readonly string[]; logLines?: string[] }): Promise<TestEpp> {
  const dir = mkdtempSync(join(tmpdir(), 'epp-e2e-'));
  const endpointsFile = join(dir, 'endpoints.yaml');
  writeFileSync(endpointsFile, `endpoints: [${o.endpoints.map((e) => `{name: ${e.name}, address: ${e.address ?? '127.0.0.1'}, port: ${e.port}${e.labels ? `, labels: ${JSON.stringify(e.labels)}` : ''}}`).join(', ')}]\n`);
  const discovery = `plugins:\n- type: file-discovery\n  parameters: {path: ${JSON.stringify(endpointsFile)}}\n`;
  const withDiscovery = (o.config ?? DEFAULT_CONFIG_TEXT).replace(/^plugins:\n/m, discovery);
  // A config with its own dataLayer section (sources) gets the discovery reference inside it.
  const config = /^dataLayer:\n/m.test(withDiscovery)
    ? withDiscovery.replace(/^dataLayer:\n/m, 'dataLayer:\n  discovery: {pluginRef: file-discovery}\n')
    : `${withDiscovery}\ndataLayer:\n  discovery: {pluginRef: file-discovery}\n`;
  const args = ['--config-text', config, '--secure-serving=false', '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0', '--refresh-metrics-interval=10ms'];
  const resourcesFile = o.resources ? join(dir, 'resources.yaml') : undefined;
  if (resourcesFile) {
    writeFileSync(resourcesFile, o.resources!);
    args.push('--resources-file', resourcesFile);
  }
  const verbosity = o.args?.some((a) => a.startsWith('-v=') || a.startsWith('--v=')) ? 1 : 0;
  const log = createLogger(verbosity, { write: (line: string) => (o.logLines?.push(line), true) } as unknown as NodeJS.WritableStream);
  if (o.maxBodyBytes) args.push(`--max-request-body-bytes=${o.maxBodyBytes}`);
  args.push(...(o.args ?? []));
  const epp = await startEpp(parseArgs(args), log, { host: '127.0.0.1' });
  await until(() => epp.dataLayer.store.snapshot().endpoints.length === o.endpoints.length && epp.dataLayer.store.snapshot().endpoints.every((e) => e.metrics.updateTime > 0), 'every endpoint scraped');
  const client = new grpc.Client(`127.0.0.1:${epp.grpcPort}`, grpc.credentials.createInsecure());
  return { epp, client, resourcesFile, close: async () => (client.close(), await epp.close()) };
}

/** One ext_proc stream, driven message by message. */
export class Stream {
  readonly #call: grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>;
  readonly received: ProcessingResponse[] = [];
  ended = false;
  error: grpc.ServiceError | undefined;

  /** Order in which streams got their first response (1, 2, …, across every Stream of the process). */
  firstResponse = 0;
  static #answered = 0;

  constructor(client: grpc.Client, options: grpc.CallOptions = {}) {
    this.#call = client.makeBidiStreamRequest(PROCESS_PATH, encodeRequest, decodeResponse, new grpc.Metadata(), options);
    this.#call.on('data', (m: ProcessingResponse) => {
      if (this.received.length === 0) this.firstResponse = ++Stream.#answered;
      this.received.push(m);
    });
    this.#call.on('end', () => (this.ended = true));
    this.#call.on('error', (e: grpc.ServiceError) => ((this.error = e), (this.ended = true)));
  }

  send(m: ProcessingRequest): this {
    this.#call.write(m);
    return this;
  }

  /** Waits until `n` responses arrived (or the stream ended). */
  async responses(n: number): Promise<ProcessingResponse[]> {
    await until(() => this.received.length >= n || this.ended, `${n} responses`);
    return this.received;
  }

  endSide(): void {
    this.#call.end();
  }

  cancel(): void {
    this.#call.cancel();
  }
}

const FULL_DUPLEX = { requestBodyMode: BodySendMode.FULL_DUPLEX_STREAMED, responseBodyMode: BodySendMode.FULL_DUPLEX_STREAMED };

export function requestHeaders(headers: Record<string, string>, endOfStream = false, extra: Partial<ProcessingRequest> = {}): ProcessingRequest {
  return {
    request: 'requestHeaders',
    requestHeaders: { headers: { headers: Object.entries({ ':method': 'POST', ':path': '/v1/chat/completions', ...headers }).map(([key, v]) => ({ key, rawValue: Buffer.from(v) })) }, endOfStream },
    protocolConfig: FULL_DUPLEX,
    ...extra,
  };
}

export const requestBody = (body: string | Buffer, endOfStream = true): ProcessingRequest => ({ request: 'requestBody', requestBody: { body: Buffer.from(body), endOfStream } });
export const responseHeaders = (headers: Record<string, string>, endOfStream = false): ProcessingRequest => ({
  request: 'responseHeaders',
  responseHeaders: { headers: { headers: Object.entries(headers).map(([key, v]) => ({ key, rawValue: Buffer.from(v) })) }, endOfStream },
});
export const responseBody = (body: string | Buffer, endOfStream = false): ProcessingRequest => ({ request: 'responseBody', responseBody: { body: Buffer.from(body), endOfStream } });

export const chat = (model: string, extra: Record<string, unknown> = {}) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra });

/** The destination the routing response names, or undefined. */
export function destinationOf(responses: readonly ProcessingResponse[]): string | undefined {
  for (const r of responses) {
    const d = headerSet(r, 'x-gateway-destination-endpoint');
    if (d !== undefined) return d;
  }
  return undefined;
}

export function headerSet(r: ProcessingResponse | undefined, key: string): string | undefined {
  const set = r?.requestHeaders?.response?.headerMutation?.setHeaders ?? r?.requestBody?.response?.headerMutation?.setHeaders;
  const h = set?.find((s) => s.header.key === key);
  return h ? Buffer.from(h.header.rawValue!).toString() : undefined;
}

/** The body carried back in request_body streamed responses, joined. */
export function streamedRequestBody(responses: readonly ProcessingResponse[]): string {
  return Buffer.concat(responses.flatMap((r) => (r.requestBody?.response?.bodyMutation?.streamedResponse?.body ? [Buffer.from(r.requestBody.response.bodyMutation.streamedResponse.body)] : []))).toString();
}

export function streamedResponseBody(responses: readonly ProcessingResponse[]): string {
  return Buffer.concat(responses.flatMap((r) => (r.responseBody?.response?.bodyMutation?.streamedResponse?.body ? [Buffer.from(r.responseBody.response.bodyMutation.streamedResponse.body)] : []))).toString();
}

export function immediate(responses: readonly ProcessingResponse[]): { status: number; body: string } | undefined {
  const r = responses.find((m) => m.immediateResponse)?.immediateResponse;
  return r ? { status: r.status?.code ?? 0, body: Buffer.from(r.body ?? []).toString() } : undefined;
}
