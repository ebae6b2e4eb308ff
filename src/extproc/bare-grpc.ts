/**
 * The ext_proc listener on node:http2 with gRPC's wire format written here instead of grpc-js: one
 * bidirectional method, messages as 5-byte-prefixed frames, the status in the trailers. grpc-js wraps each
 * HTTP/2 stream in interceptors, metadata objects and an object stream per call; on this path the EPP
 * spends 0.68–0.70× the CPU per 4 KB exchange that it spends on grpc-js, 0.86–0.90× at 400 KB
 * (bench/transport.bench.ts, which also runs the echo server both ways). What the proxy sees is the same: HTTP/2 with TLS
 * or plaintext, `application/grpc`, grpc-status and grpc-message trailers, keepalive pings, GOAWAY at
 * shutdown. Health checking stays on grpc-js (its own port, a few calls a second).
 */
import http2 from 'node:http2';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';

/** gRPC status codes used here. */
export const GrpcStatus = { OK: 0, INTERNAL: 13, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12 } as const;

export interface BareGrpcOptions<In, Out> {
  /** The one method served, e.g. `/envoy.service.ext_proc.v3.ExternalProcessor/Process`. */
  readonly path: string;
  readonly decode: (frame: Buffer) => In;
  /**
   * A message as one whole gRPC frame (the 5-byte prefix, then the message) in parts written in order, so
   * a large field need not be copied behind the prefix. `framed(encode)` makes one from a plain encoder.
   */
  readonly frame: (message: Out) => Buffer[];
  readonly maxRecvBytes: number;
  readonly maxSendBytes: number;
  /** Ping an idle connection this often; 0 = never. */
  readonly keepaliveMs: number;
  /** An unanswered ping closes the connection after this long. */
  readonly keepaliveTimeoutMs: number;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  readonly onCall: (call: BareCall<In, Out>) => void;
}

/** grpc-timeout: digits and a unit (H, M, S, m, u, n). */
const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** Bytes up to this size are copied behind a frame's prefix (one buffer); larger ones are their own part. */
export const COPY_LIMIT = 16 * 1024;

/** A frame function from a plain message encoder: the message copied behind its prefix, or its own part when large. */
export function framed<Out>(encode: (message: Out) => Buffer): (message: Out) => Buffer[] {
  return (message) => {
    const body = encode(message);
    const large = body.length > COPY_LIMIT;
    const head = Buffer.allocUnsafe(large ? 5 : 5 + body.length);
    head[0] = 0;
    head.writeUInt32BE(body.length, 1);
    if (large) return [head, body];
    body.copy(head, 5);
    return [head];
  };
}

const percentEncode = (s: string) => s.replace(/[^ -$&-~]/g, (c) => encodeURIComponent(c)); // gRPC's grpc-message encoding

/**
 * One call: emits `data` (each decoded message), `end` (the proxy half-closed), `cancelled` (it reset),
 * `error`, `close` and `finish`, as grpc-js's server call does, and takes `write`/`end`.
 */
export class BareCall<In, Out> extends EventEmitter {
  readonly #stream: http2.ServerHttp2Stream;
  readonly #options: BareGrpcOptions<In, Out>;
  readonly #deadline: number;
  /** Bytes of an incomplete message, kept as they came (joined once the message is whole, not per chunk). */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes needed in `#chunks` before the next message can be read. */
  #need = 0;
  #status: { code: number; message: string } = { code: GrpcStatus.OK, message: '' };
  #broken = false;

  constructor(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, options: BareGrpcOptions<In, Out>) {
    super();
    this.#stream = stream;
    this.#options = options;
    this.#deadline = deadlineOf(headers['grpc-timeout']);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => {
      const { code, message } = this.#status;
      stream.sendTrailers(message ? { 'grpc-status': String(code), 'grpc-message': percentEncode(message) } : { 'grpc-status': String(code) });
    });
    stream.on('data', (chunk: Buffer) => this.#read(chunk));
    stream.on('end', () => this.emit('end'));
    stream.on('aborted', () => this.emit('cancelled'));
    stream.on('error', (err: Error) => this.emit('error', err));
    stream.on('close', () => {
      this.emit('close');
      // Nothing follows 'close'. A closed http2 stream can stay reachable for young-generation collections
      // (a stale table of node's per-session stream Map points at it); without its listeners, this call
      // no longer keeps the request's state reachable from it.
      this.removeAllListeners();
      this.on('error', () => {});
      this.#chunks = [];
    });
    stream.on('finish', () => this.emit('finish'));
  }

  get destroyed(): boolean {
    return this.#stream.destroyed;
  }

  /** Milliseconds since the epoch by which the proxy wants the call over; Infinity when it set none. */
  getDeadline(): number {
    return this.#deadline;
  }

  write(message: Out): boolean {
    const stream = this.#stream;
    if (stream.destroyed || stream.writableEnded) return false;
    const parts = this.#options.frame(message);
    if (parts.length === 1) {
      const frame = parts[0]!;
      if (frame.length - 5 > this.#options.maxSendBytes) return this.#tooBig(frame.length - 5);
      return stream.write(frame);
    }
    let length = -5;
    for (const p of parts) length += p.length;
    if (length > this.#options.maxSendBytes) return this.#tooBig(length);
    // Parts of one frame (a body chunk beside its prefix) leave in one corked write, not copied together.
    stream.cork();
    let ok = true;
    for (const p of parts) ok = stream.write(p);
    stream.uncork();
    return ok;
  }

  #tooBig(length: number): false {
    this.#fail(GrpcStatus.RESOURCE_EXHAUSTED, `sent message larger than max (${length} vs. ${this.#options.maxSendBytes})`);
    return false;
  }

  /** Ends the call with status OK (or the failure recorded); the trailers follow the last message. */
  end(): void {
    const stream = this.#stream;
    if (!stream.destroyed && !stream.writableEnded) stream.end();
  }

  #fail(code: number, message: string): void {
    this.#broken = true;
    this.#status = { code, message };
    this.end();
  }

  #read(chunk: Buffer): void {
    if (this.#broken) return;
    let buf = chunk;
    if (this.#chunks.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered < this.#need) return; // a 400 KB message arrives in ~25 chunks: join them once
      buf = Buffer.concat(this.#chunks, this.#buffered);
      this.#chunks = [];
      this.#buffered = 0;
    }
    while (buf.length >= 5) {
      const length = buf.readUInt32BE(1);
      if (buf[0] !== 0) return this.#fail(GrpcStatus.UNIMPLEMENTED, 'compressed messages are not supported (send grpc-encoding identity)');
      if (length > this.#options.maxRecvBytes) return this.#fail(GrpcStatus.RESOURCE_EXHAUSTED, `received message larger than max (${length} vs. ${this.#options.maxRecvBytes})`);
      if (buf.length < 5 + length) break;
      let message: In;
      try {
        message = this.#options.decode(buf.subarray(5, 5 + length));
      } catch (err) {
        return this.#fail(GrpcStatus.INTERNAL, `failed to parse the request message: ${(err as Error).message}`);
      }
      buf = buf.subarray(5 + length);
      this.emit('data', message);
      if (this.#broken) return;
    }
    if (buf.length > 0) {
      this.#chunks = [buf];
      this.#buffered = buf.length;
      this.#need = buf.length >= 5 ? 5 + buf.readUInt32BE(1) : 5;
    }
  }
}

/** A `grpc-timeout` header in milliseconds; undefined when absent or malformed (then there is no deadline). */
export function grpcTimeoutMs(header: string | string[] | undefined): number | undefined {
  const m = typeof header === 'string' ? /^(\d{1,8})([HMSmun])$/.exec(header) : null;
  return m ? Number(m[1]) * TIMEOUT_UNIT_MS[m[2]!]! : undefined;
}

function deadlineOf(header: string | string[] | undefined): number {
  const ms = grpcTimeoutMs(header);
  return ms === undefined ? Infinity : Date.now() + ms;
}

/** Answers a stream that is not the served method with a trailers-only gRPC status. */
function refuse(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  stream.on('error', () => {});
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': percentEncode(message) }, { endStream: true });
}

export class BareGrpcServer<In, Out> {
  readonly #server: http2.Http2Server | http2.Http2SecureServer;
  readonly #options: BareGrpcOptions<In, Out>;
  readonly #sessions = new Set<http2.ServerHttp2Session>();

  constructor(options: BareGrpcOptions<In, Out>) {
    this.#options = options;
    // As grpc-js: the session may buffer as much as the streams need (large bodies in flight).
    const common = { maxSessionMemory: Number.MAX_SAFE_INTEGER };
    this.#server = options.tls ? http2.createSecureServer({ ...common, cert: options.tls.cert, key: options.tls.key, allowHTTP1: false }) : http2.createServer(common);
    this.#server.on('session', (session) => this.#track(session));
    this.#server.on('stream', (stream, headers) => this.#stream(stream, headers));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = this.#server;
      const failed = (err: Error) => reject(err);
      server.once('error', failed);
      server.listen(port, host, () => {
        server.off('error', failed);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  /** A new certificate for new connections (--enable-cert-reload); open ones keep theirs. */
  setCertificate(cert: Buffer, key: Buffer): void {
    (this.#server as http2.Http2SecureServer).setSecureContext?.({ cert, key });
  }

  /** Stops accepting, sends GOAWAY on every connection, and destroys what is left after `graceMs`. */
  close(graceMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const s of this.#sessions) s.destroy();
        resolve();
      }, graceMs);
      timer.unref();
      this.#server.close(() => (clearTimeout(timer), resolve()));
      for (const s of this.#sessions) s.close();
    });
  }

  #stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    if (headers[':path'] !== this.#options.path) return refuse(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${String(headers[':path'])}`);
    const type = headers['content-type'] ?? '';
    if (!type.startsWith('application/grpc')) {
      stream.on('error', () => {});
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    this.#options.onCall(new BareCall(stream, headers, this.#options));
  }

  #track(session: http2.ServerHttp2Session): void {
    this.#sessions.add(session);
    session.on('error', () => {}); // the streams see their own errors; a broken connection just closes
    let ping: NodeJS.Timeout | undefined;
    if (this.#options.keepaliveMs > 0) {
      ping = setInterval(() => {
        if (session.destroyed || session.closed) return;
        const deadline = setTimeout(() => session.destroy(), this.#options.keepaliveTimeoutMs);
        deadline.unref();
        const sent = session.ping(() => clearTimeout(deadline));
        if (!sent) clearTimeout(deadline);
      }, this.#options.keepaliveMs);
      ping.unref();
    }
    session.on('close', () => {
      clearInterval(ping);
      this.#sessions.delete(session);
    });
  }
}
