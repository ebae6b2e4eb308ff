/**
 * A demo gateway that plays Envoy's part in front of the EPP: an HTTP/1.1 server that, per request, opens
 * one ext_proc stream to the EPP (FULL_DUPLEX_STREAMED both ways), forwards the request to the pod the EPP
 * picked and passes the response through the EPP on the way back. A stand-in for a newcomer's demo, not a
 * production proxy (see README.md).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { BodySendMode, headerText, type HeaderMutation, type HeaderValue, type ProcessingResponse, type PbStruct } from '../extproc/codec.js';
import { DESTINATION_HEADER, LB_NAMESPACE } from '../extproc/epp-protocol.js';
import { extProcClient, openProcessStream, type ExtProcStream } from './ext-proc-client.js';

export interface GatewayOptions {
  port: number;
  host?: string;
  eppTarget: string;
  credentials: grpc.ChannelCredentials;
  log?: { info(m: string): void; warn(m: string): void };
}

export interface Gateway {
  port: number;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authenticate', 'proxy-authorization']);
const EMPTY = Buffer.alloc(0);
/** Decoded protobufjs messages carry defaults on the prototype (bytes `[]`, bools false): presence is an own property. */
const has = (o: object | undefined | null, key: string): boolean => !!o && Object.prototype.hasOwnProperty.call(o, key);

/** lower-case name → values, in arrival order. */
type Headers = Map<string, string[]>;

/** The ext_proc link to the EPP failed (not an error the EPP answered with). */
class EppLinkError extends Error {}
class PodError extends Error {}

function fromRaw(raw: string[]): Headers {
  const out: Headers = new Map();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!.toLowerCase();
    const list = out.get(key);
    if (list) list.push(raw[i + 1]!);
    else out.set(key, [raw[i + 1]!]);
  }
  return out;
}

function toWire(pseudo: [string, string][], headers: Headers): { headers: HeaderValue[] } {
  const list: HeaderValue[] = pseudo.map(([key, v]) => ({ key, rawValue: Buffer.from(v, 'utf8') }));
  for (const [key, values] of headers) for (const v of values) list.push({ key, rawValue: Buffer.from(v, 'utf8') });
  return { headers: list };
}

/** Applies an ext_proc header mutation the way Envoy does (append_action; default appends). */
function applyMutation(headers: Headers, mutation: HeaderMutation | undefined): void {
  if (!mutation) return;
  for (const name of mutation.removeHeaders ?? []) headers.delete(name.toLowerCase());
  for (const opt of mutation.setHeaders ?? []) {
    if (!opt.header?.key) continue;
    const key = opt.header.key.toLowerCase();
    const value = headerText(opt.header);
    const action = key === 'content-length' ? 2 : (opt.appendAction ?? 0);
    const exists = headers.has(key);
    if (action === 0) headers.set(key, [...(headers.get(key) ?? []), value]);
    else if (action === 1) {
      if (!exists) headers.set(key, [value]);
    } else if (action === 2) headers.set(key, [value]);
    else if (action === 3 && exists) headers.set(key, [value]);
  }
}

function outgoing(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, values] of headers) {
    if (key.startsWith(':') || HOP_BY_HOP.has(key)) continue;
    out[key] = values.length === 1 ? values[0]! : values;
  }
  return out;
}

function destinationOf(headers: Headers, metadata: PbStruct | undefined): string | undefined {
  const fromHeader = headers.get(DESTINATION_HEADER)?.join(',').split(',')[0]?.trim();
  if (fromHeader) return fromHeader;
  const lb = metadata?.fields?.[LB_NAMESPACE]?.structValue;
  const v = lb?.fields?.[DESTINATION_HEADER];
  const text = v?.stringValue ?? v?.listValue?.values?.[0]?.stringValue;
  return text?.split(',')[0]?.trim() || undefined;
}

function hostPort(dest: string): { host: string; port: number } {
  const url = new URL(`http://${dest}`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 80 };
}

function replyText(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function replyImmediate(res: http.ServerResponse, msg: ProcessingResponse): void {
  const ir = msg.immediateResponse!;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Headers = new Map();
  applyMutation(headers, ir.headers);
  const body = ir.body ? Buffer.from(ir.body) : EMPTY;
  const out = outgoing(headers);
  out['content-length'] = String(body.length);
  res.writeHead(ir.status?.code || 500, out);
  res.end(body);
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const client = extProcClient(opts.eppTarget, opts.credentials);
  const agent = new http.Agent({ keepAlive: true });
  const streams = new Set<ExtProcStream>();
  const upstreams = new Set<http.ClientRequest>();

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const stream = openProcessStream(client);
    streams.add(stream);
    void stream.closed.then(() => streams.delete(stream));
    let upstream: http.ClientRequest | undefined;
    let gone = false;
    res.on('close', () => {
      if (res.writableFinished) return;
      gone = true; // the client went away: drop the ext_proc stream and the upstream request
      stream.cancel();
      upstream?.destroy();
    });

    const reqHeaders = fromRaw(req.rawHeaders);
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const contentLength = req.headers['content-length'];
    const hasBody = contentLength !== undefined ? Number(contentLength) > 0 : req.headers['transfer-encoding'] !== undefined;

    // Request phase: headers, then the body as it arrives.
    stream.send({
      requestHeaders: {
        headers: toWire([[':method', method], [':path', path], [':authority', req.headers.host ?? ''], [':scheme', 'http']], reqHeaders),
        endOfStream: !hasBody,
      },
      protocolConfig: { requestBodyMode: BodySendMode.FULL_DUPLEX_STREAMED, responseBodyMode: BodySendMode.FULL_DUPLEX_STREAMED },
    });
    const original: Buffer[] = [];
    const requestRead = new Promise<void>((resolve) => {
      if (!hasBody) {
        req.resume();
        return resolve();
      }
      req.on('data', (chunk: Buffer) => {
        original.push(chunk);
        stream.send({ requestBody: { body: chunk, endOfStream: false } });
      });
      req.on('end', () => {
        stream.send({ requestBody: { body: EMPTY, endOfStream: true } });
        resolve();
      });
      req.on('error', () => resolve());
    });

    const next = async (what: string): Promise<ProcessingResponse> => {
      let msg: ProcessingResponse | undefined;
      try {
        msg = await stream.next();
      } catch (err) {
        throw new EppLinkError(`ext_proc stream to the EPP at ${opts.eppTarget} failed while waiting for ${what}: ${(err as Error).message}`);
      }
      if (!msg) throw new EppLinkError(`the EPP at ${opts.eppTarget} ended the ext_proc stream before ${what}`);
      return msg;
    };

    try {
      // 1. The header answer (or an immediate response).
      let msg = await next('the request headers answer');
      while (!msg.requestHeaders && !msg.immediateResponse) {
        opts.log?.warn(`gateway: unexpected ext_proc answer before the request headers answer: ${Object.keys(msg).join(',')}`);
        msg = await next('the request headers answer');
      }
      if (msg.immediateResponse) {
        stream.end();
        return replyImmediate(res, msg);
      }
      const upHeaders = reqHeaders;
      applyMutation(upHeaders, msg.requestHeaders!.response?.headerMutation);
      let metadata = msg.dynamicMetadata;

      // 2. The (possibly rewritten) body.
      let body: Buffer = EMPTY;
      if (hasBody) {
        const parts: Buffer[] = [];
        for (;;) {
          const m = await next('the request body');
          if (m.dynamicMetadata) metadata ??= m.dynamicMetadata;
          if (m.immediateResponse) {
            stream.end();
            return replyImmediate(res, m);
          }
          if (!m.requestBody) continue;
          applyMutation(upHeaders, m.requestBody.response?.headerMutation);
          const mutation = m.requestBody.response?.bodyMutation;
          if (mutation?.streamedResponse) {
            if (mutation.streamedResponse.body?.length) parts.push(Buffer.from(mutation.streamedResponse.body));
            if (mutation.streamedResponse.endOfStream) break;
          } else if (has(mutation, 'body')) {
            parts.splice(0, parts.length, Buffer.from(mutation!.body ?? EMPTY));
            break;
          } else if (has(mutation, 'clearBody') && mutation!.clearBody) {
            parts.length = 0;
            break;
          } else {
            await requestRead; // a plain CONTINUE: forward the body as it came
            parts.splice(0, parts.length, ...original);
            break;
          }
        }
        body = Buffer.concat(parts);
      }

      const destination = destinationOf(upHeaders, metadata);
      if (!destination) throw new EppLinkError(`the EPP at ${opts.eppTarget} picked no destination (no ${DESTINATION_HEADER} header or envoy.lb metadata)`);
      if (gone) return;

      // 3. Proxy to the pod.
      const forward = outgoing(upHeaders);
      const declared = upHeaders.get('content-length')?.[0];
      if (hasBody || body.length > 0) {
        if (declared !== undefined && Number(declared) !== body.length) opts.log?.warn(`gateway: content-length ${declared} from the EPP but the body is ${body.length} bytes; sending ${body.length}`);
        forward['content-length'] = String(body.length);
      } else delete forward['content-length'];
      const { host, port } = hostPort(destination);
      const podRes = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const r = http.request({ host, port, method, path, headers: forward, agent });
        upstream = r;
        upstreams.add(r);
        r.on('close', () => upstreams.delete(r));
        r.on('response', resolve);
        r.on('error', (err) => reject(new PodError(`pod ${destination} unreachable: ${err.message}`)));
        r.end(body);
      });
      podRes.on('error', () => undefined);
      if (gone) return;

      // 4. Response headers through the EPP.
      const podHeaders = fromRaw(podRes.rawHeaders);
      stream.send({ responseHeaders: { headers: toWire([[':status', String(podRes.statusCode ?? 502)]], podHeaders), endOfStream: false } });
      let answer = await next('the response headers answer');
      while (!answer.responseHeaders && !answer.immediateResponse) answer = await next('the response headers answer');
      if (answer.immediateResponse) {
        podRes.destroy();
        stream.end();
        return replyImmediate(res, answer);
      }
      podHeaders.delete('content-length'); // the EPP may change the body: chunked
      applyMutation(podHeaders, answer.responseHeaders!.response?.headerMutation);
      podHeaders.delete('content-length');
      podHeaders.set(DESTINATION_HEADER, [destination]);
      res.writeHead(podRes.statusCode ?? 502, outgoing(podHeaders));
      res.flushHeaders();

      // 5. The body: pod → EPP → client, chunk by chunk.
      podRes.on('data', (chunk: Buffer) => stream.send({ responseBody: { body: chunk, endOfStream: false } }));
      podRes.on('end', () => stream.send({ responseBody: { body: EMPTY, endOfStream: true } }));
      podRes.on('aborted', () => {
        opts.log?.warn(`gateway: pod ${destination} aborted the response`);
        stream.cancel();
      });
      res.on('drain', () => podRes.resume());
      for (;;) {
        let m: ProcessingResponse | undefined;
        try {
          m = await stream.next();
        } catch (err) {
          throw new EppLinkError(`ext_proc stream to the EPP at ${opts.eppTarget} failed during the response body: ${(err as Error).message}`);
        }
        if (!m || gone) break;
        if (m.immediateResponse) {
          res.destroy(); // too late for a status: cut the response
          return;
        }
        const mutation = m.responseBody?.response?.bodyMutation;
        if (!mutation) continue;
        const chunk = mutation.streamedResponse ? mutation.streamedResponse.body : has(mutation, 'body') ? mutation.body : undefined;
        if (chunk && chunk.length > 0 && !res.write(Buffer.from(chunk))) podRes.pause();
        if (mutation.streamedResponse ? mutation.streamedResponse.endOfStream : has(mutation, 'body') || (has(mutation, 'clearBody') && mutation.clearBody)) break;
      }
      stream.end();
      if (!gone) res.end();
    } catch (err) {
      stream.cancel();
      upstream?.destroy();
      if (gone) return;
      const message = (err as Error).message;
      opts.log?.warn(`gateway: ${method} ${path}: ${message}`);
      if (err instanceof EppLinkError || err instanceof PodError) replyText(res, 502, `${message}\n`);
      else replyText(res, 500, `gateway error: ${message}\n`);
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      opts.log?.warn(`gateway: ${err.message}`);
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  opts.log?.info(`gateway listening on ${opts.host ?? '127.0.0.1'}:${port}, EPP at ${opts.eppTarget}`);
  return {
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of streams) s.cancel();
      for (const r of upstreams) r.destroy();
      agent.destroy();
      client.close();
      await closed;
    },
  };
}
