/**
 * One endpoint's metrics page over one kept-alive connection: a GET at a time, with a deadline and a size
 * cap, so a slow or huge page fails that scrape and never stalls the collector or fills memory. The
 * request bytes are built once; a connection the server closed while idle is reopened and, when the
 * request got no byte back on a reused connection, retried once (the server's keep-alive timeout racing
 * our send is not a pod failure).
 */
import net from 'node:net';
import tls from 'node:tls';
import { ResponseError, ResponseReader, type Response } from './http1-response.js';

export interface PageTarget {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly scheme: 'http' | 'https';
  readonly insecureSkipVerify: boolean;
}

export class ScrapeError extends Error {
  constructor(readonly reason: 'timeout' | 'http-status' | 'too-large' | 'connection' | 'protocol', message: string) {
    super(message);
    this.name = 'ScrapeError';
  }
}

interface Pending {
  reader: ResponseReader;
  resolve: (page: Buffer) => void;
  reject: (err: ScrapeError) => void;
  timer: NodeJS.Timeout;
  retry: (() => void) | undefined;
}

/** Plain-TCP reads land here (net's `onread`: no stream machinery, no buffer per read); one per client. */
const READ_BUFFER_BYTES = 64 * 1024;

export class PageClient {
  readonly target: PageTarget;
  readonly #request: Buffer;
  #readBuffer: Buffer | undefined;
  /** Reused by every response on this client: a page is valid until the next `get`. */
  #bodyBuffer: Buffer = Buffer.allocUnsafe(0);
  #socket: net.Socket | undefined;
  /** Responses read on the current connection; a failure on a fresh one is never retried. */
  #served = 0;
  #pending: Pending | undefined;

  constructor(target: PageTarget) {
    this.target = target;
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    this.#request = Buffer.from(`GET ${target.path} HTTP/1.1\r\nHost: ${host}:${target.port}\r\nAccept: text/plain\r\nUser-Agent: epp-ts\r\n\r\n`, 'latin1');
  }

  /**
   * The page body of one 200 response. Only one call may be outstanding, and the bytes are valid until
   * the next call (the buffer is reused).
   */
  get(timeoutMs: number, maxBytes: number): Promise<Buffer> {
    if (this.#pending) return Promise.reject(new Error('PageClient.get called while a scrape is in flight'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#fail(new ScrapeError('timeout', `no complete page within ${timeoutMs} ms`)), timeoutMs);
      const pending: Pending = { reader: new ResponseReader(maxBytes, this.#bodyBuffer), resolve, reject, timer, retry: undefined };
      pending.retry = () => {
        pending.retry = undefined;
        pending.reader = new ResponseReader(maxBytes, this.#bodyBuffer);
        this.#send();
      };
      this.#pending = pending;
      this.#send();
    });
  }

  close(): void {
    this.#fail(new ScrapeError('connection', 'client closed'));
    this.#drop();
  }

  #send(): void {
    const socket = this.#socket ?? this.#connect();
    if (this.#served === 0) this.#pending!.retry = undefined;
    socket.write(this.#request);
  }

  #connect(): net.Socket {
    const { host, port, scheme, insecureSkipVerify } = this.target;
    let socket: net.Socket;
    if (scheme === 'https') {
      socket = tls.connect({ host, port, rejectUnauthorized: !insecureSkipVerify, ...(net.isIP(host) ? {} : { servername: host }) });
      socket.on('data', (data: Buffer) => this.#onData(socket, data));
    } else {
      const buffer = (this.#readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES));
      socket = net.connect({ host, port, onread: { buffer, callback: (n: number, buf: Uint8Array) => (this.#onData(socket, (buf as Buffer).subarray(0, n)), true) } });
    }
    socket.setNoDelay(true);
    socket.on('end', () => this.#onClosed(socket, undefined));
    socket.on('error', (err) => this.#onClosed(socket, err));
    socket.on('close', () => this.#onClosed(socket, undefined));
    this.#socket = socket;
    this.#served = 0;
    return socket;
  }

  #onData(socket: net.Socket, data: Buffer): void {
    const pending = this.#pending;
    if (socket !== this.#socket) return;
    if (!pending) return this.#drop(); // bytes nobody asked for: the connection is out of step
    let response: Response | undefined;
    try {
      response = pending.reader.push(data);
    } catch (err) {
      this.#drop();
      return this.#fail(asScrapeError(err));
    }
    if (response) this.#complete(response);
  }

  #onClosed(socket: net.Socket, err: Error | undefined): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    socket.destroy();
    const pending = this.#pending;
    if (!pending) return;
    if (!pending.reader.started && pending.retry) return pending.retry();
    if (err) return this.#fail(new ScrapeError('connection', err.message));
    if (!pending.reader.started) return this.#fail(new ScrapeError('connection', 'closed by the server before a response'));
    try {
      this.#complete(pending.reader.end());
    } catch (e) {
      this.#fail(asScrapeError(e));
    }
  }

  #complete(response: Response): void {
    this.#served++;
    if (this.#pending) this.#bodyBuffer = this.#pending.reader.bodyBuffer;
    if (!response.keepAlive) this.#drop();
    const pending = this.#settle();
    if (!pending) return;
    if (response.status !== 200) pending.reject(new ScrapeError('http-status', `HTTP ${response.status}`));
    else pending.resolve(response.body);
  }

  #fail(err: ScrapeError): void {
    const pending = this.#settle();
    if (!pending) return;
    this.#drop(); // a half-read response leaves the connection unusable
    pending.reject(err);
  }

  #settle(): Pending | undefined {
    const pending = this.#pending;
    if (pending) clearTimeout(pending.timer);
    this.#pending = undefined;
    return pending;
  }

  #drop(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}

function asScrapeError(err: unknown): ScrapeError {
  if (err instanceof ResponseError) return new ScrapeError(err.reason, err.message);
  return new ScrapeError('connection', (err as Error).message);
}
