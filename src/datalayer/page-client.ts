/**
 * One endpoint's metrics page over one kept-alive connection: a GET at a time, with a size cap and a
 * deadline the owner enforces (`expire`, from one sweep for all pods rather than a timer per scrape), so
 * a slow or huge page fails that scrape and never stalls the collector or fills memory. The request
 * bytes are built once; plain-TCP reads land in one buffer per client (net's `onread`: no stream
 * machinery), and the body is copied into a buffer reused from page to page, so a scrape allocates next
 * to nothing. A connection the server closed while idle is reopened and, when the request got no byte
 * back on a reused connection, retried once (the server's keep-alive timeout racing our send is not a pod
 * failure). Callbacks, not promises: this runs 2,000 times a second at 100 pods.
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

/** The page (valid until the next `get`: its buffer is reused), or why there is none. */
export type PageCallback = (err: ScrapeError | undefined, page: Buffer | undefined) => void;


const READ_BUFFER_BYTES = 64 * 1024;
/**
 * The body buffer grows to the largest page read; it is kept for the next page only while it is at most
 * 4× the page just read (or this small), so one huge page does not pin its size for the pod's lifetime.
 */
const KEEP_BODY_BUFFER_BYTES = 256 * 1024;

const EMPTY_BUFFER = Buffer.alloc(0);

export class PageClient {
  readonly target: PageTarget;
  readonly #request: Buffer;
  #readBuffer: Buffer | undefined;
  /** One reader for every response, reset per scrape: it keeps the body buffer from page to page. */
  readonly #reader = new ResponseReader(0, EMPTY_BUFFER);
  #socket: net.Socket | undefined;
  /** Responses read on the current connection; a failure on a fresh one is never retried. */
  #served = 0;
  /** The scrape in flight: its callback (undefined when none), cap, start time, and whether it may be retried. */
  #done: PageCallback | undefined;
  #maxBytes = 0;
  #startedAt = 0;
  #canRetry = false;

  constructor(target: PageTarget) {
    this.target = target;
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    this.#request = Buffer.from(`GET ${target.path} HTTP/1.1\r\nHost: ${host}:${target.port}\r\nAccept: text/plain\r\nUser-Agent: epp-ts\r\n\r\n`, 'latin1');
  }

  /** Bytes this client holds for the next page (its reused body buffer). */
  get bufferedBytes(): number {
    return this.#reader.bodyBuffer.length;
  }

  /** Fetches the page body of one 200 response; `done` is called exactly once. One call at a time. */
  get(maxBytes: number, done: PageCallback, now: number = performance.now()): void {
    if (this.#done) throw new Error('PageClient.get called while a scrape is in flight');
    this.#reader.reset(maxBytes);
    this.#done = done;
    this.#maxBytes = maxBytes;
    this.#startedAt = now;
    this.#canRetry = true;
    this.#send();
  }

  /** Fails the scrape in flight if it started more than `timeoutMs` before `now`; true when it did. */
  expire(now: number, timeoutMs: number): boolean {
    if (!this.#done || now - this.#startedAt <= timeoutMs) return false;
    this.#fail(new ScrapeError('timeout', `no complete page within ${timeoutMs} ms`));
    return true;
  }

  close(): void {
    this.#fail(new ScrapeError('connection', 'client closed'));
    this.#drop();
  }

  #send(): void {
    const socket = this.#socket ?? this.#connect();
    if (this.#served === 0) this.#canRetry = false;
    socket.write(this.#request);
  }

  #connect(): net.Socket {
    const { host, port, scheme, insecureSkipVerify } = this.target;
    let socket: net.Socket;
    if (scheme === 'https') {
      socket = tls.connect({ host, port, rejectUnauthorized: !insecureSkipVerify, ...(net.isIP(host) ? {} : { servername: host }) });
      socket.on('data', (data: Buffer) => this.#onData(socket, data, data.length));
    } else {
      const buffer = (this.#readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES));
      socket = net.connect({ host, port, onread: { buffer, callback: (n: number, buf: Uint8Array) => (this.#onData(socket, buf as Buffer, n), true) } });
    }
    socket.setNoDelay(true);
    socket.on('end', () => this.#onClosed(socket, undefined));
    socket.on('error', (err) => this.#onClosed(socket, err));
    socket.on('close', () => this.#onClosed(socket, undefined));
    this.#socket = socket;
    this.#served = 0;
    return socket;
  }

  /** `data[0, length)` arrived (the rest of `data` is the read buffer's leftovers). */
  #onData(socket: net.Socket, data: Buffer, length: number): void {
    if (socket !== this.#socket) return;
    if (!this.#done) return this.#drop(); // bytes nobody asked for: the connection is out of step
    let response: Response | undefined;
    try {
      response = this.#reader.push(data, 0, length);
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
    if (!this.#done) return;
    const reader = this.#reader;
    if (!reader.started && this.#canRetry) {
      this.#canRetry = false;
      reader.reset(this.#maxBytes);
      return this.#send();
    }
    if (err) return this.#fail(new ScrapeError('connection', err.message));
    if (!reader.started) return this.#fail(new ScrapeError('connection', 'closed by the server before a response'));
    try {
      this.#complete(reader.end());
    } catch (e) {
      this.#fail(asScrapeError(e));
    }
  }

  #complete(response: Response): void {
    this.#served++;
    const done = this.#done;
    if (!done) return;
    this.#done = undefined;
    const buffer = this.#reader.bodyBuffer;
    if (buffer.length > KEEP_BODY_BUFFER_BYTES && buffer.length > 4 * response.body.length) this.#reader.reset(0, EMPTY_BUFFER);
    if (!response.keepAlive) this.#drop();
    if (response.status !== 200) done(new ScrapeError('http-status', `HTTP ${response.status}`), undefined);
    else done(undefined, response.body);
  }

  #fail(err: ScrapeError): void {
    const done = this.#done;
    if (!done) return;
    this.#done = undefined;
    this.#drop(); // a half-read response leaves the connection unusable
    done(err, undefined);
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
