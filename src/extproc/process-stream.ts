/**
 * One ext_proc stream = one HTTP request through the proxy. The phase machine of the EPP protocol
 * (reference/ext-proc-wire.md): remember request headers; buffer body chunks until end_of_stream (refusing
 * an over-limit body at once); route; answer with the destination (header, Content-Length, envoy.lb
 * metadata, clear_route_cache) and, in FULL_DUPLEX_STREAMED, the body in chunks of at most 62,000 bytes;
 * then answer response headers, body (SSE passed through as it comes, JSON buffered) and trailers. An
 * error is one ImmediateResponse and the end of the stream. Transport-free: the server feeds it messages
 * and gives it `send`/`end`, so tests can drive it directly too.
 */
import type { RequestOutcome } from '../framework/request-control.js';
import { HEADER_REQUEST_ID, type Director, type RoutedRequest } from '../director/director.js';
import type { HeaderMutation as PluginHeaderMutation } from '../framework/headers.js';
import { asEppError, EppError, ErrorCodes, goErrorName, httpStatusOf } from '../errors.js';
import {
  BodySendMode,
  headerRecord,
  setHeader,
  type CommonResponse,
  type HeaderMutation,
  type HttpBody,
  type HttpHeaders,
  type HttpTrailers,
  type ProcessingRequest,
  type ProcessingResponse,
} from './codec.js';
import { ResponseBody } from './response-body.js';
import { chunks, DESTINATION_HEADER, LB_NAMESPACE, lbMetadata, SERVED_KEY, SUBSET_HEADER, SUBSET_NAMESPACE, SYSTEM_OWNED_HEADERS } from './epp-protocol.js';

export { STREAM_CHUNK_BYTES } from './epp-protocol.js';

export interface StreamIO {
  send(message: ProcessingResponse): void;
  /** Ends the stream from our side (after an ImmediateResponse, or when the proxy ended its side). */
  end(): void;
  /** The stream's own deadline on the performance.now() clock (its gRPC deadline), if it has one. */
  readonly deadline?: number;
}

export interface StreamOptions {
  /** Request bodies over this are refused with 413 (default 10 MiB). */
  readonly maxBodyBytes: number;
  /** JSON response bodies over this pass through unbuffered (no usage, no model rename). */
  readonly maxResponseBufferBytes: number;
  /** `--disable-endpoint-subset-filter`: every endpoint of the pool is a candidate, whatever the proxy hints. */
  readonly ignoreSubsetHint?: boolean;
  /** Requests are logged at debug level only (ids, models, endpoints, outcomes: never prompts or bodies). */
  readonly log?: { warn(obj: object, msg: string): void; debug?(obj: object, msg: string): void; isLevelEnabled?(level: string): boolean };
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = { maxBodyBytes: 10 * 1024 * 1024, maxResponseBufferBytes: 16 * 1024 * 1024 };

type Phase = 'request-headers' | 'request-body' | 'parsing' | 'routed' | 'response-body' | 'finished';

const EMPTY = new Uint8Array(0);

/** The subset hint from metadata (what Envoy sends), else from the header; undefined when there is none. */
export function subsetHint(message: ProcessingRequest, headers: Readonly<Record<string, string>>): string[] | undefined {
  const field = message.metadataContext?.filterMetadata?.[SUBSET_NAMESPACE]?.fields?.[SUBSET_HEADER];
  if (field) {
    if (field.listValue) return (field.listValue.values ?? []).map((v) => v.stringValue ?? '').filter(Boolean);
    if (field.stringValue !== undefined) return field.stringValue.split(',').map((s) => s.trim()).filter(Boolean);
    return [];
  }
  const header = headers[SUBSET_HEADER];
  return header === undefined ? undefined : header.split(',').map((s) => s.trim()).filter(Boolean);
}

export class ProcessStream {
  readonly #director: Director;
  readonly #io: StreamIO;
  readonly #o: StreamOptions;
  #phase: Phase = 'request-headers';
  #headers: Record<string, string> = {};
  #subset: string[] | undefined;
  #requestMode: number = BodySendMode.FULL_DUPLEX_STREAMED;
  #responseMode: number = BodySendMode.FULL_DUPLEX_STREAMED;
  #body: Uint8Array[] = [];
  #bodyBytes = 0;
  #routed: RoutedRequest | undefined;
  /** Kept past the end for log lines (#routed is dropped then). */
  #requestId: string | undefined;
  #response: ResponseBody | undefined;
  #responseStatus = 0;
  /** The response body said end_of_stream (or trailers ended it). */
  #responseEnded = false;
  #receivedAt = 0;
  /** Messages that arrived while the body was being parsed on a worker. */
  #waiting: ProcessingRequest[] = [];
  /** The proxy half-closed during the parse: end once the waiting messages are answered. */
  #endWhenIdle = false;
  /** Lets flow control drop this request from its queue the moment the proxy goes away. */
  readonly #cancel: { onCancel: (() => void) | undefined; cancelled: boolean } = { onCancel: undefined, cancelled: false };

  constructor(director: Director, io: StreamIO, options: StreamOptions = DEFAULT_STREAM_OPTIONS) {
    this.#director = director;
    this.#io = io;
    this.#o = options;
  }

  /** True once the request has been answered and ended (by success, error or the proxy going away). */
  get finished(): boolean {
    return this.#phase === 'finished';
  }

  onMessage(message: ProcessingRequest): void {
    if (this.#phase === 'finished') return;
    // While a worker parses the body, later messages wait their turn: phases are answered in order.
    if (this.#phase === 'parsing') return void this.#waiting.push(message);
    try {
      if (message.protocolConfig) {
        this.#requestMode = message.protocolConfig.requestBodyMode || BodySendMode.FULL_DUPLEX_STREAMED;
        this.#responseMode = message.protocolConfig.responseBodyMode || BodySendMode.FULL_DUPLEX_STREAMED;
      }
      switch (message.request) {
        case 'requestHeaders':
          return this.#onRequestHeaders(message, message.requestHeaders!);
        case 'requestBody':
          return this.#onRequestBody(message.requestBody!);
        case 'requestTrailers':
          // No reply; trailers end a body that did not say end_of_stream.
          if (this.#phase === 'request-body') this.#routeWithBody();
          return;
        case 'responseHeaders':
          return this.#onResponseHeaders(message, message.responseHeaders!);
        case 'responseBody':
          return this.#onResponseBody(message.responseBody!);
        case 'responseTrailers':
          return this.#onResponseTrailers(message.responseTrailers?.trailers);
        default:
          throw new EppError(ErrorCodes.BAD_REQUEST, 'ext_proc message carries no request phase');
      }
    } catch (err) {
      this.#fail(err);
    }
  }

  /** The proxy's side broke (cancel, error): whatever was routed and not finished is a disconnect. */
  onClosed(): void {
    if (this.#phase === 'finished') return;
    this.#cancel.cancelled = true;
    this.#cancel.onCancel?.();
    try {
      this.#complete({ kind: 'disconnect' });
    } catch (err) {
      this.#fail(err); // the proxy is gone: logged and counted, nothing sent
    }
  }

  /** The proxy sent nothing for `idleMs`: the request is answered 408 (if it still can be) and ended. */
  onIdle(idleMs: number): void {
    if (this.#phase === 'finished') return;
    this.#fail(new EppError(ErrorCodes.STREAM_IDLE, `no message from the proxy for ${idleMs} ms (--stream-idle-timeout)`));
  }

  /**
   * The proxy half-closed: no more messages. What it already sent is still answered (a body on a worker
   * finishes, waiting messages are answered), then the stream ends; a request left unfinished then is a
   * disconnect.
   */
  onHalfClose(): void {
    if (this.#phase === 'parsing') {
      this.#endWhenIdle = true;
      return;
    }
    this.onClosed();
    this.#io.end();
  }

  #onRequestHeaders(message: ProcessingRequest, h: HttpHeaders): void {
    if (this.#phase !== 'request-headers') throw new EppError(ErrorCodes.BAD_REQUEST, 'request headers arrived twice on one stream');
    this.#receivedAt = performance.now();
    this.#headers = headerRecord(h.headers);
    this.#subset = this.#o.ignoreSubsetHint ? undefined : subsetHint(message, this.#headers);
    if (!h.endOfStream && (this.#requestMode === BodySendMode.STREAMED || this.#requestMode === BodySendMode.GRPC)) {
      // The route must ride on the headers answer, and in these modes that answer is due before the body.
      throw new EppError(ErrorCodes.UNSUPPORTED_BODY_MODE, `request_body_mode ${modeName(this.#requestMode)} is not supported: the EPP needs the whole body before it can route; configure FULL_DUPLEX_STREAMED, BUFFERED or BUFFERED_PARTIAL`);
    }
    const declared = Number(this.#headers['content-length']);
    if (declared > this.#o.maxBodyBytes) throw tooLarge(this.#o.maxBodyBytes, `declares ${declared} bytes`);
    if (h.endOfStream) return this.#answerRoute(this.#director.route({ headers: this.#headers, body: EMPTY, headerOnly: true, subset: this.#subset, receivedAt: this.#receivedAt }), false);
    this.#phase = 'request-body';
    // BUFFERED: Envoy waits for this answer before it sends the body; the route goes on the body answer.
    if (buffered(this.#requestMode)) this.#io.send({ requestHeaders: { response: {} } });
  }

  #onRequestBody(b: HttpBody): void {
    if (this.#phase !== 'request-body') throw new EppError(ErrorCodes.BAD_REQUEST, `request body arrived ${this.#phase === 'request-headers' ? 'before the request headers' : 'after the request was routed'}`);
    const chunk = b.body ?? EMPTY;
    this.#bodyBytes += chunk.length;
    if (this.#bodyBytes > this.#o.maxBodyBytes) throw tooLarge(this.#o.maxBodyBytes, `is over ${this.#bodyBytes - chunk.length} bytes and growing`);
    if (chunk.length > 0) this.#body.push(chunk);
    if (this.#requestMode === BodySendMode.BUFFERED_PARTIAL && !b.endOfStream) {
      // The proxy's buffer filled: the rest of the body would go upstream without the EPP seeing it.
      throw tooLarge(this.#bodyBytes, 'outgrew the proxy\'s BUFFERED_PARTIAL buffer (the EPP needs the whole body)');
    }
    if (b.endOfStream) this.#routeWithBody();
  }

  #routeWithBody(): void {
    const body = this.#body.length === 1 ? this.#body[0]! : Buffer.concat(this.#body);
    this.#body = [];
    const deadline = this.#io.deadline;
    const routed = this.#director.routeOrOffload({ headers: this.#headers, body, headerOnly: false, subset: this.#subset, receivedAt: this.#receivedAt, cancel: this.#cancel, ...(deadline !== undefined ? { deadline } : {}) });
    if (!(routed instanceof Promise)) return this.#answerRoute(routed, true);
    // Parsing on a worker or waiting in flow control: the stream waits; a proxy that leaves meanwhile gets
    // nothing, its queued request is dropped, and whatever the pick reserved is released at once.
    this.#phase = 'parsing';
    routed.then(
      (r) => {
        try {
          if (this.#phase !== 'parsing') return this.#director.complete(r, { kind: 'disconnect' });
          this.#answerRoute(r, true);
          this.#drainWaiting();
        } catch (err) {
          this.#fail(err);
        }
      },
      (err: unknown) => {
        if (this.#phase === 'parsing') this.#fail(err); // the error ends the stream; waiting messages go unanswered
      },
    );
  }

  #drainWaiting(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const m of waiting) this.onMessage(m);
    if (this.#endWhenIdle && this.#phase !== 'parsing') this.onHalfClose();
  }

  #answerRoute(routed: RoutedRequest, withBody: boolean): void {
    this.#routed = routed;
    this.#requestId = routed.request.requestId;
    this.#phase = 'routed';
    routed.evict = () => this.#evict();
    const destination = routed.destinations.join(',');
    if (this.#o.log?.isLevelEnabled?.('debug')) {
      const { requestId, incomingModel, targetModel, priority } = routed.request;
      this.#o.log.debug?.({ requestId, model: incomingModel, targetModel, priority, destination, bodyBytes: routed.body.length }, 'routed');
    }
    const setHeaders = [setHeader(DESTINATION_HEADER, destination)];
    if (withBody) setHeaders.push(setHeader('content-length', String(routed.body.length)));
    // As the Go EPP: every request header it received comes back, except those the EPP owns.
    for (const [key, value] of Object.entries(this.#headers)) if (!SYSTEM_OWNED_HEADERS.has(key)) setHeaders.push(setHeader(key, value));
    if (!this.#headers[HEADER_REQUEST_ID]) setHeaders.push(setHeader(HEADER_REQUEST_ID, routed.request.requestId));
    const common: CommonResponse = { headerMutation: withEdits({ setHeaders }, routed.requestHeaders), clearRouteCache: true };
    const dynamicMetadata = lbMetadata(destination);
    if (!withBody) {
      this.#io.send({ requestHeaders: { response: common }, dynamicMetadata });
    } else if (buffered(this.#requestMode)) {
      if (routed.bodyChanged) common.bodyMutation = { body: routed.body };
      this.#io.send({ requestBody: { response: common }, dynamicMetadata });
    } else {
      this.#io.send({ requestHeaders: { response: common }, dynamicMetadata });
      const parts = chunks(routed.body);
      parts.forEach((part, i) => this.#io.send({ requestBody: { response: { bodyMutation: { streamedResponse: { body: part, endOfStream: i === parts.length - 1 } } } } }));
    }
  }

  #onResponseHeaders(message: ProcessingRequest, h: HttpHeaders): void {
    const headers = headerRecord(h.headers);
    this.#responseStatus = Number(headers[':status']) || 200;
    const routed = this.#routed;
    const common: CommonResponse = {};
    let streaming = (headers['content-type'] ?? '').includes('text/event-stream');
    let rewrite: { from: string; to: string } | undefined;
    if (routed) {
      const served = message.metadataContext?.filterMetadata?.[LB_NAMESPACE]?.fields?.[SERVED_KEY]?.stringValue;
      if (served) this.#director.served(routed, served);
      const edits = this.#director.responseHeaders(routed, { status: this.#responseStatus, headers });
      const { incomingModel, targetModel } = routed.request;
      rewrite = incomingModel && targetModel !== incomingModel ? { from: targetModel, to: incomingModel } : undefined;
      streaming ||= Boolean(routed.request.body.stream);
      if (rewrite) common.headerMutation = { removeHeaders: ['content-length'] }; // the renamed body's length differs
      if (edits) common.headerMutation = withEdits(common.headerMutation ?? {}, edits);
    }
    // Also without a request phase: JSON is still answered whole and usage is still read.
    this.#response = new ResponseBody({ streaming, rewrite, maxBufferBytes: this.#o.maxResponseBufferBytes });
    this.#phase = 'response-body';
    this.#io.send({ responseHeaders: { response: common } });
    if (h.endOfStream) this.#complete(this.#successOutcome());
  }

  #onResponseBody(b: HttpBody): void {
    const chunk = b.body ?? EMPTY;
    const response = this.#response;
    if (this.#routed && chunk.length > 0) this.#director.responseChunk(this.#routed, chunk);
    if (buffered(this.#responseMode)) {
      // One whole body: answer with a replacement only when it changed. BUFFERED_PARTIAL may cut it short:
      // a part is answered unchanged (what follows it never reaches the EPP).
      const out = response ? concat(response.push(chunk), b.endOfStream ? response.end() : EMPTY) : chunk;
      const changed = b.endOfStream && (out.length !== chunk.length || !Buffer.from(out).equals(Buffer.from(chunk)));
      this.#io.send({ responseBody: { response: changed ? { bodyMutation: { body: out } } : {} } });
    } else if (this.#responseMode === BodySendMode.STREAMED || this.#responseMode === BodySendMode.GRPC) {
      // Each chunk is answered as it comes and goes on unchanged: usage is still read, nothing is renamed.
      if (response) {
        response.push(chunk);
        if (b.endOfStream) response.end();
      }
      this.#io.send({ responseBody: { response: {} } });
    } else {
      const now = response ? response.push(chunk) : chunk;
      const tail = b.endOfStream && response ? response.end() : EMPTY;
      const out = tail.length > 0 ? concat(now, tail) : now;
      if (out.length > 0 || b.endOfStream) {
        const parts = chunks(out);
        parts.forEach((part, i) => this.#io.send({ responseBody: { response: { bodyMutation: { streamedResponse: { body: part, endOfStream: Boolean(b.endOfStream) && i === parts.length - 1 } } } } }));
      }
    }
    if (b.endOfStream) {
      this.#responseEnded = true;
      this.#complete(this.#successOutcome());
    }
  }

  /**
   * Trailers end a response body that did not say end_of_stream (HTTP/2, gRPC): what was held goes on
   * first, then the empty TrailersResponse. A `grpc-status` other than 0 is an error, as a 4xx/5xx is.
   */
  #onResponseTrailers(trailers: HttpTrailers['trailers']): void {
    const response = this.#response;
    if (response && !this.#responseEnded && !buffered(this.#responseMode)) {
      this.#responseEnded = true;
      const rest = response.end();
      if (rest.length > 0 && this.#responseMode === BodySendMode.FULL_DUPLEX_STREAMED) for (const part of chunks(rest)) this.#io.send({ responseBody: { response: { bodyMutation: { streamedResponse: { body: part, endOfStream: false } } } } });
    }
    this.#io.send({ responseTrailers: {} });
    const grpcStatus = headerRecord(trailers)['grpc-status'];
    this.#complete(grpcStatus !== undefined && grpcStatus.trim() !== '0' ? { kind: 'error', code: ErrorCodes.MODEL_SERVER_ERROR, status: this.#responseStatus } : this.#successOutcome());
  }

  #successOutcome(): RequestOutcome {
    if (this.#responseStatus >= 400) return { kind: 'error', code: ErrorCodes.MODEL_SERVER_ERROR, status: this.#responseStatus };
    const usage = this.#response?.usage;
    return usage ? { kind: 'success', usage } : { kind: 'success' };
  }

  #complete(outcome: RequestOutcome): void {
    const wasFinished = this.#phase === 'finished';
    this.#phase = 'finished';
    if (wasFinished) return;
    try {
      if (!this.#routed) {
        // A stream that began at the response phase: nothing to release, but its usage still counts.
        if (this.#response) this.#director.completeUnrouted(outcome, this.#response.size);
        return;
      }
      this.#director.complete(this.#routed, outcome, this.#response?.size ?? 0);
      if (this.#o.log?.isLevelEnabled?.('debug')) this.#o.log.debug?.({ requestId: this.#routed.request.requestId, endpoint: this.#routed.endpoint.hostPort, outcome }, 'request ended');
    } finally {
      this.#drop();
    }
  }

  /**
   * Once finished nothing here is read again: the request's state goes, so the parsed body and the pick
   * do not live on with the transport's objects. Those can outlive the stream: a stale hash table of a
   * Map that once held the stream (node's http2 session keeps its streams in one; see open-streams.ts)
   * still points at it, young-generation collections take that as live, and whatever it reaches is
   * promoted. Measured with bench/heap-profile.ts (promoted) before open-streams.ts: 7.6 -> 3.1 KB per
   * 4 KB request.
   */
  #drop(): void {
    this.#routed = undefined;
    this.#response = undefined;
    this.#headers = NO_HEADERS;
    this.#body.length = 0;
    this.#waiting.length = 0;
    this.#subset = undefined;
  }

  /** Flow control evicts this routed, unfinished request: the proxy gets a 429 and the stream ends. */
  #evict(): void {
    if (this.#phase === 'finished' || !this.#routed) return;
    this.#io.send({
      immediateResponse: {
        status: { code: 429 },
        headers: { setHeaders: [setHeader(EVICTED_REPLY.header, EVICTED_REPLY.reason)] },
        body: Buffer.from(EVICTED_REPLY.body),
        details: ErrorCodes.EVICTED,
      },
    });
    this.#complete({ kind: 'error', code: ErrorCodes.EVICTED, status: 429 });
    this.#io.end();
  }

  /**
   * Ends the request with an ImmediateResponse for `err`. Never throws: whatever fails here (a plugin in
   * the completion, an observer) is logged and stays with this stream. After the stream finished (a
   * response plugin threw once the answer was complete) nothing more is sent; the failure is logged.
   */
  #fail(err: unknown): void {
    const afterEnd = this.#phase === 'finished';
    this.#phase = 'finished';
    this.#body = [];
    const e = asEppError(err);
    try {
      if (!this.#routed && !afterEnd) this.#director.rejected(err);
    } catch (inner) {
      this.#logInternal(inner);
    }
    if (e.code === ErrorCodes.INTERNAL) this.#logInternal(e);
    else if (this.#o.log?.isLevelEnabled?.('debug')) this.#o.log.debug?.({ code: e.code, reason: e.message.slice(0, 200) }, 'request refused');
    if (afterEnd) return this.#io.end();
    const status = httpStatusOf(e.code);
    const setHeaders = [setHeader('content-type', 'text/plain; charset=utf-8')];
    for (const [k, v] of Object.entries(e.headers ?? {})) setHeaders.push(setHeader(k, v));
    this.#io.send({
      immediateResponse: {
        status: { code: status },
        headers: { setHeaders },
        body: Buffer.from(`inference error: ${goErrorName(e.code)} - ${e.message}`),
        details: e.code,
      },
    });
    if (this.#routed && !this.#routed.done) {
      try {
        this.#director.complete(this.#routed, { kind: 'error', code: e.code, status }, this.#response?.size ?? 0);
      } catch (inner) {
        this.#logInternal(inner);
      }
    }
    this.#drop();
    this.#io.end();
  }

  #logInternal(err: unknown): void {
    const e = asEppError(err);
    this.#o.log?.warn({ code: e.code, err: e.message, requestId: this.#requestId }, 'request failed inside the EPP');
  }
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const buffered = (mode: number) => mode === BodySendMode.BUFFERED || mode === BodySendMode.BUFFERED_PARTIAL;
const modeName = (mode: number) => Object.entries(BodySendMode).find(([, v]) => v === mode)?.[0] ?? String(mode);
/** The reply to an in-flight request evicted by flow control: 429, llm-d's raw body and dropped-reason header. */
export const EVICTED_REPLY = { body: 'request evicted by flow control', header: 'x-llm-d-request-dropped-reason', reason: 'evicted' } as const;

function tooLarge(limit: number, what: string): EppError {
  return new EppError(ErrorCodes.BODY_TOO_LARGE, `request body ${what}; the limit is ${limit} bytes`);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  return Buffer.concat([a, b]);
}

/** Adds plugins' header edits (framework/headers.ts) to a mutation: sets replace, removals follow. */
function withEdits(mutation: HeaderMutation, edits: PluginHeaderMutation | undefined): HeaderMutation {
  if (!edits || (edits.set.size === 0 && edits.remove.size === 0)) return mutation;
  // An edited name replaces any entry for it already in the mutation (e.g. the echo of a client-sent header).
  const setHeaders = (mutation.setHeaders ?? []).filter((h) => {
    const key = h.header?.key?.toLowerCase() ?? '';
    return !edits.set.has(key) && !edits.remove.has(key);
  });
  for (const [name, value] of edits.set) setHeaders.push(setHeader(name, value));
  const removeHeaders = [...(mutation.removeHeaders ?? []), ...edits.remove];
  return { ...mutation, setHeaders, ...(removeHeaders.length > 0 ? { removeHeaders } : {}) };
}
