/**
 * An incremental HTTP/1.1 response reader for metrics scrapes: status line, headers, then a body framed by
 * Content-Length, chunked transfer coding, or the connection's close. It exists because node:http's client
 * machinery (agent, ClientRequest, IncomingMessage streams) cost more than half a core at 2,000 pages/s
 * where this costs a small fraction of that (bench/scrape.bench.ts). It reads exactly one response,
 * never decodes the body, and copies it into a buffer that can serve the next response too (no garbage
 * per scrape).
 */

export type ResponseProblem = 'too-large' | 'protocol';

export class ResponseError extends Error {
  constructor(readonly reason: ResponseProblem, message: string) {
    super(message);
    this.name = 'ResponseError';
  }
}

export interface Response {
  readonly status: number;
  readonly body: Buffer;
  /** False when the server asked to close (or spoke HTTP/1.0 without keep-alive). */
  readonly keepAlive: boolean;
}

const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

type Phase = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'done';

export class ResponseReader {
  #maxBody: number;
  #phase: Phase = 'head';
  /** Bytes not yet consumed by the current phase (a partial line or header block). */
  #pending: Buffer | undefined;
  #status = 0;
  #keepAlive = true;
  #remaining = 0;
  /** The body is copied here: a buffer the caller may reuse from one response to the next. */
  #body: Buffer;
  #bodySize = 0;
  /** The last body handed out: the same view serves a next body of the same size in the same buffer. */
  #view: Buffer | undefined;

  constructor(maxBodyBytes: number, bodyBuffer: Buffer = Buffer.allocUnsafe(0)) {
    this.#maxBody = maxBodyBytes;
    this.#body = bodyBuffer;
  }

  /** Ready for the next response, keeping the body buffer (or taking `bodyBuffer`): one reader serves a connection's pages. */
  reset(maxBodyBytes: number, bodyBuffer: Buffer = this.#body): void {
    this.#maxBody = maxBodyBytes;
    this.#phase = 'head';
    this.#pending = undefined;
    this.#status = 0;
    this.#keepAlive = true;
    this.#remaining = 0;
    this.#body = bodyBuffer;
    this.#bodySize = 0;
  }

  /** The body buffer, grown as needed; pass it to the next reader to reuse it. */
  get bodyBuffer(): Buffer {
    return this.#body;
  }

  /** True once a whole response has been read. */
  get done(): boolean {
    return this.#phase === 'done';
  }

  /** Whether anything at all has arrived (a reused connection that closes before a byte may be retried). */
  get started(): boolean {
    return this.#phase !== 'head' || this.#pending !== undefined;
  }

  /**
   * Feeds the bytes `[start, end)` of `data` (a socket's reused read buffer needs no view of its own);
   * returns the response once complete. Throws ResponseError on a bad or oversize response.
   */
  push(data: Buffer, start = 0, end = data.length): Response | undefined {
    if (this.#phase === 'done') throw new ResponseError('protocol', `${end - start} unexpected bytes after the response`);
    let buf = data;
    if (this.#pending) {
      buf = Buffer.concat([this.#pending, data.subarray(start, end)]);
      [start, end] = [0, buf.length];
      this.#pending = undefined;
    }
    while (start < end && !this.done) start = this.#step(buf, start, end);
    if (this.done) {
      if (start < end) throw new ResponseError('protocol', `${end - start} unexpected bytes after the response`);
      return this.#response();
    }
    return undefined;
  }

  /** The connection ended: completes a close-delimited body, otherwise the response was cut short. */
  end(): Response {
    if (this.#phase === 'until-close') {
      this.#phase = 'done';
      return this.#response();
    }
    throw new ResponseError('protocol', this.started ? 'connection closed mid-response' : 'connection closed before a response');
  }

  #response(): Response {
    let view = this.#view;
    if (view === undefined || view.buffer !== this.#body.buffer || view.byteOffset !== this.#body.byteOffset || view.length !== this.#bodySize) {
      view = this.#view = this.#body.subarray(0, this.#bodySize);
    }
    return { status: this.#status, body: view, keepAlive: this.#keepAlive };
  }

  /** Consumes what the current phase can from `buf[start, end)`; returns where the rest starts. */
  #step(buf: Buffer, start: number, end: number): number {
    switch (this.#phase) {
      case 'head': {
        const at = indexWithin(buf, HEAD_END, start, end);
        if (at < 0) return this.#hold(buf, start, end, 'response head');
        this.#head(buf, start, at);
        return at + 4;
      }
      case 'length':
      case 'chunk-data': {
        const take = Math.min(this.#remaining, end - start);
        this.#append(buf, start, start + take);
        this.#remaining -= take;
        if (this.#remaining === 0) this.#phase = this.#phase === 'length' ? 'done' : 'chunk-end';
        return start + take;
      }
      case 'until-close':
        this.#append(buf, start, end);
        return end;
      case 'chunk-size':
      case 'chunk-end':
      case 'trailers': {
        const eol = indexWithin(buf, CRLF, start, end);
        if (eol < 0) return this.#hold(buf, start, end, 'chunk line');
        this.#line(buf.toString('latin1', start, eol));
        return eol + 2;
      }
      case 'done':
        return start;
    }
  }

  #hold(buf: Buffer, start: number, end: number, what: string): number {
    if (end - start > MAX_HEAD_BYTES) throw new ResponseError('protocol', `${what} longer than ${MAX_HEAD_BYTES} bytes`);
    this.#pending = Buffer.from(buf.subarray(start, end)); // a copy: the socket may reuse its buffer
    return end;
  }

  #line(line: string): void {
    if (this.#phase === 'chunk-end') {
      if (line !== '') throw new ResponseError('protocol', 'chunk data longer than its declared size');
      this.#phase = 'chunk-size';
    } else if (this.#phase === 'trailers') {
      if (line === '') this.#phase = 'done';
    } else {
      const hex = line.split(';', 1)[0]!.trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw new ResponseError('protocol', `bad chunk size "${hex.slice(0, 20)}"`);
      this.#remaining = parseInt(hex, 16);
      this.#checkSize(this.#bodySize + this.#remaining, true);
      this.#phase = this.#remaining === 0 ? 'trailers' : 'chunk-data';
    }
  }

  /**
   * Reads the head `[0, end)` of `buf` as bytes: a header value becomes a string only for the three headers
   * that matter (at 2,000 pages a second, decoding, splitting and lower-casing every head was the reader's
   * largest cost). Names compare case-insensitively; names and values are trimmed as `String.trim` would.
   */
  #head(buf: Buffer, from: number, end: number): void {
    let eol = lineEnd(buf, from, end);
    const code = statusCode(buf, from, eol);
    if (code < 0) throw new ResponseError('protocol', `not an HTTP/1.x status line: "${buf.toString('latin1', from, Math.min(eol, from + 40))}"`);
    const minor = buf[from + 7]!;
    let length: number | undefined;
    let chunked = false;
    let close = false;
    let keepAlive = false;
    for (let start = eol + 2; start < end + 2; start = eol + 2) {
      eol = lineEnd(buf, start, end);
      let colon = start;
      while (colon < eol && buf[colon] !== 58 /* : */) colon++;
      let nameStart = start;
      let nameEnd = colon;
      while (nameStart < nameEnd && isSpace(buf[nameStart]!)) nameStart++;
      while (nameEnd > nameStart && isSpace(buf[nameEnd - 1]!)) nameEnd--;
      if (colon === start || colon === eol) throw new ResponseError('protocol', `bad header line "${buf.toString('latin1', start, Math.min(eol, start + 40))}"`);
      const header = headerOf(buf, nameStart, nameEnd);
      if (header === undefined) continue;
      let valueStart = colon + 1;
      let valueEnd = eol;
      while (valueStart < valueEnd && isSpace(buf[valueStart]!)) valueStart++;
      while (valueEnd > valueStart && isSpace(buf[valueEnd - 1]!)) valueEnd--;
      if (header === CONTENT_LENGTH) {
        const value = digits(buf, valueStart, valueEnd);
        if (value < 0 || (length !== undefined && length !== value)) throw new ResponseError('protocol', `bad content-length "${buf.toString('latin1', valueStart, Math.min(valueEnd, valueStart + 20))}"`);
        length = value;
      } else if (header === TRANSFER_ENCODING) {
        chunked = buf.toString('latin1', valueStart, valueEnd).toLowerCase().split(',').at(-1)!.trim() === 'chunked';
      } else if (header === CONNECTION) {
        // The last Connection header counts; `close` and `keep-alive` are looked for anywhere in its value.
        close = includesIgnoringCase(buf, valueStart, valueEnd, CLOSE);
        keepAlive = includesIgnoringCase(buf, valueStart, valueEnd, KEEP_ALIVE);
      }
    }
    if (code >= 100 && code < 200) return; // an interim response: the real one follows
    this.#status = code;
    this.#keepAlive = minor === 49 /* 1 */ ? !close : keepAlive;
    if (chunked) {
      this.#phase = 'chunk-size';
    } else if (length !== undefined) {
      this.#checkSize(length, false);
      this.#remaining = length;
      this.#phase = length === 0 ? 'done' : 'length';
    } else if (code === 204 || code === 304) {
      this.#phase = 'done';
    } else {
      this.#phase = 'until-close';
      this.#keepAlive = false;
    }
  }

  #append(buf: Buffer, start: number, end: number): void {
    if (end === start) return;
    const size = this.#bodySize + end - start;
    this.#checkSize(size, true);
    if (size > this.#body.length) {
      const grown = Buffer.allocUnsafe(Math.max(size, this.#body.length * 2, 16 * 1024));
      this.#body.copy(grown, 0, 0, this.#bodySize);
      this.#body = grown;
    }
    buf.copy(this.#body, this.#bodySize, start, end);
    this.#bodySize = size;
  }

  #checkSize(size: number, streamed: boolean): void {
    if (size <= this.#maxBody) return;
    throw new ResponseError('too-large', streamed ? `page is over the ${this.#maxBody}-byte cap` : `page of ${size} bytes is over the ${this.#maxBody}-byte cap`);
  }
}

const CONTENT_LENGTH = 0;
const TRANSFER_ENCODING = 1;
const CONNECTION = 2;
const HEADERS = ['content-length', 'transfer-encoding', 'connection'].map((n) => Buffer.from(n, 'latin1'));

/** Where `what` starts within `buf[start, end)`, or -1 (bytes past `end` are a reused buffer's leftovers). */
function indexWithin(buf: Buffer, what: Buffer, start: number, end: number): number {
  const at = buf.indexOf(what, start);
  return at >= 0 && at + what.length <= end ? at : -1;
}

/** Whitespace as `String.trim` sees it, within latin1. */
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13) || c === 160;

const CLOSE = Buffer.from('close', 'latin1');
const KEEP_ALIVE = Buffer.from('keep-alive', 'latin1');

/** `[start, end)` as a number of 1 to 15 decimal digits, or -1. */
function digits(buf: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Whether `[start, end)` contains the lower-case ASCII `needle`, letters compared case-insensitively. */
function includesIgnoringCase(buf: Buffer, start: number, end: number, needle: Buffer): boolean {
  for (let at = start; at + needle.length <= end; at++) if (equalIgnoringCase(buf, at, needle)) return true;
  return false;
}

function equalIgnoringCase(buf: Buffer, at: number, name: Buffer): boolean {
  for (let i = 0; i < name.length; i++) {
    const want = name[i]!;
    const c = buf[at + i]!;
    if (c !== want && !(want >= 97 && want <= 122 && c === want - 32)) return false;
  }
  return true;
}

/** Where the line starting at `start` ends: its CRLF, or `end` (the head's CRLFCRLF). */
function lineEnd(buf: Buffer, start: number, end: number): number {
  for (let i = start; i < end; i++) if (buf[i] === 13 && buf[i + 1] === 10) return i;
  return end;
}

/** The code of a status line `HTTP/1.x ddd[ reason]` from `at` to `eol`, or -1. */
function statusCode(buf: Buffer, at: number, eol: number): number {
  if (eol - at < 12) return -1;
  for (let i = 0; i < 7; i++) if (buf[at + i] !== HTTP_1[i]) return -1;
  if (buf[at + 7] !== 48 && buf[at + 7] !== 49) return -1;
  if (buf[at + 8] !== 32 || (eol - at > 12 && buf[at + 12] !== 32)) return -1;
  let code = 0;
  for (let i = at + 9; i < at + 12; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    code = code * 10 + d;
  }
  return code;
}
const HTTP_1 = Buffer.from('HTTP/1.', 'latin1');

/** Which of the headers the reader uses `[start, end)` names (ASCII case-insensitively), or undefined. */
function headerOf(buf: Buffer, start: number, end: number): number | undefined {
  for (let h = 0; h < HEADERS.length; h++) if (end - start === HEADERS[h]!.length && equalIgnoringCase(buf, start, HEADERS[h]!)) return h;
  return undefined;
}
