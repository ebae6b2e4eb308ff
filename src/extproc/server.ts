/**
 * The ext_proc gRPC service: `envoy.service.ext_proc.v3.ExternalProcessor/Process`, one ProcessStream per
 * call. Messages are (de)serialised by the protobufjs codec directly (no proto-loader object conversion).
 * Every stream is tracked so shutdown can end them and tests can assert none leaked.
 */
import * as grpc from '@grpc/grpc-js';
import type { Director } from '../director/director.js';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, PROCESS_PATH, setHeader, type ProcessingRequest, type ProcessingResponse } from './codec.js';
import { EppError, ErrorCodes, goErrorName, httpStatusOf } from '../errors.js';
import { ProcessStream, type StreamOptions } from './process-stream.js';
import { LinkedSet } from './open-streams.js';

export const extProcServiceDefinition: grpc.ServiceDefinition = {
  Process: {
    path: PROCESS_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: encodeRequest,
    requestDeserialize: decodeRequest,
    responseSerialize: encodeResponse,
    responseDeserialize: decodeResponse,
  },
};

export interface ServiceLimits {
  /** Open streams at most; one more is refused at once with a 503 ImmediateResponse. 0 = no bound. */
  readonly maxStreams: number;
  /** A stream on which the proxy sends nothing for this long is answered 408 and ended. 0 = no limit. */
  readonly idleMs: number;
}

export const DEFAULT_LIMITS: ServiceLimits = { maxStreams: 10_000, idleMs: 0 };

/** What a stream needs of its call: grpc-js's server call, or the bare HTTP/2 one (bare-grpc.ts). */
export interface ExtProcCall {
  write(message: ProcessingResponse): boolean;
  end(): void;
  /** `any` arguments: what grpc-js and EventEmitter declare for listeners, so both kinds of call fit. */
  on(event: string, listener: (...args: any[]) => void): unknown;
  getDeadline(): Date | number;
  readonly destroyed: boolean;
}

interface Open {
  readonly call: ExtProcCall;
  readonly stream: ProcessStream;
  lastMessageAt: number;
  end(): void;
}

/** The call's gRPC deadline on the performance.now() clock (flow control shortens a queued request's TTL to it). */
function deadlineOf(call: ExtProcCall): { deadline?: number } {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(at) ? { deadline: at - Date.now() + performance.now() } : {};
}

export class ExtProcService {
  readonly #director: Director;
  readonly #options: StreamOptions;
  readonly #limits: ServiceLimits;
  readonly #open = new LinkedSet<Open>();
  /** One sweep enforces every stream's idle limit (no timer per stream). */
  #sweep: NodeJS.Timeout | undefined;
  #refused = 0;
  #idled = 0;

  constructor(director: Director, options: StreamOptions, limits: ServiceLimits = DEFAULT_LIMITS) {
    this.#director = director;
    this.#options = options;
    this.#limits = limits;
  }

  /** Streams currently open. */
  get openStreams(): number {
    return this.#open.size;
  }

  /** Streams refused because every slot was taken, and streams ended for idling, since start. */
  get refusedStreams(): number {
    return this.#refused;
  }

  get idleStreams(): number {
    return this.#idled;
  }

  addTo(server: grpc.Server): void {
    server.addService(extProcServiceDefinition, { Process: (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => this.serve(call) });
  }

  /** Runs one ext_proc call to its end (either transport). */
  serve(call: ExtProcCall): void {
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      call.end();
    };
    if (this.#limits.maxStreams > 0 && this.#open.size >= this.#limits.maxStreams) {
      this.#refused++;
      call.on('error', () => {}); // the proxy may reset meanwhile; nothing to release
      call.write(refusal(new EppError(ErrorCodes.STREAMS_EXHAUSTED, `every ext_proc stream slot is taken (--max-concurrent-streams ${this.#limits.maxStreams})`)));
      return end();
    }
    const stream = new ProcessStream(
      this.#director,
      {
        send: (m) => {
          if (!ended) call.write(m);
        },
        end,
        ...deadlineOf(call),
      },
      this.#options,
    );
    const open: Open = { call, stream, lastMessageAt: performance.now(), end };
    const node = this.#open.add(open);
    this.#arm();
    // Last line of defence: the stream contains its own failures, but nothing thrown in an event
    // handler may reach the process.
    const guarded = (what: string, f: () => void) => {
      try {
        f();
      } catch (err) {
        this.#options.log?.warn({ err: (err as Error)?.message ?? String(err) }, `ext_proc stream failed in ${what}`);
        end();
      }
    };
    const closed = () =>
      guarded('close', () => {
        this.#open.remove(node);
        stream.onClosed();
      });
    call.on('data', (m: ProcessingRequest) =>
      guarded('a message', () => {
        open.lastMessageAt = performance.now();
        stream.onMessage(m);
      }),
    );
    call.on('end', () => guarded('half-close', () => stream.onHalfClose()));
    call.on('error', closed);
    call.on('cancelled', closed);
    call.on('close', closed);
    call.on('finish', () => this.#open.remove(node));
  }

  #arm(): void {
    if (this.#sweep || this.#limits.idleMs <= 0) return;
    const every = Math.max(50, Math.min(1000, this.#limits.idleMs / 4));
    this.#sweep = setInterval(() => this.#expireIdle(), every);
    this.#sweep.unref();
  }

  #expireIdle(): void {
    const now = performance.now();
    for (const node of this.#open.nodes()) {
      const open = node.value;
      if (open.stream.finished) {
        if (open.call.destroyed) this.#open.remove(node);
        continue;
      }
      if (now - open.lastMessageAt <= this.#limits.idleMs) continue;
      this.#idled++;
      this.#open.remove(node);
      open.stream.onIdle(this.#limits.idleMs);
      open.end();
    }
    if (this.#open.size === 0) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }

  /** Ends every open stream (shutdown). */
  closeAll(): void {
    for (const node of this.#open.nodes()) node.value.call.end();
    this.#open.clear();
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }
}

/** A stream refused before it began: one ImmediateResponse in the EPP's error shape. */
function refusal(e: EppError): ProcessingResponse {
  return {
    immediateResponse: {
      status: { code: httpStatusOf(e.code) },
      headers: { setHeaders: [setHeader('content-type', 'text/plain; charset=utf-8')] },
      body: Buffer.from(`inference error: ${goErrorName(e.code)} - ${e.message}`),
      details: e.code,
    },
  };
}
