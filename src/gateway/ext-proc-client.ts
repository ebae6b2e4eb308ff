/**
 * The client side of an ext_proc stream, as Envoy holds it: one bidirectional `Process` call per HTTP
 * request, typed with the codec's message shapes. A thin wrapper over grpc-js: answers are queued until read
 * with `next()` (or `for await`); a stream error rejects the next read once the queued answers are drained.
 */
import * as grpc from '@grpc/grpc-js';
import { PROCESS_PATH, encodeRequest, decodeResponse, type ProcessingRequest, type ProcessingResponse } from '../extproc/codec.js';

export interface ExtProcStream extends AsyncIterable<ProcessingResponse> {
  /** Writes one message; ignored (returns false) once the stream was ended, cancelled or failed. */
  send(msg: ProcessingRequest): boolean;
  /** Half-closes: no more messages from this side. */
  end(): void;
  /** The next answer; `undefined` when the EPP ended the stream; rejects on a stream error. */
  next(): Promise<ProcessingResponse | undefined>;
  /** Cancels the call (both directions). */
  cancel(): void;
  /** Resolves when the call is over, for any reason (never rejects). */
  readonly closed: Promise<void>;
}

/** A channel to the EPP (`host:port`, `dns:///…`, `unix:…`). */
export function extProcClient(target: string, credentials: grpc.ChannelCredentials): grpc.Client {
  return new grpc.Client(target, credentials);
}

export function openProcessStream(client: grpc.Client): ExtProcStream {
  const call = client.makeBidiStreamRequest<ProcessingRequest, ProcessingResponse>(PROCESS_PATH, encodeRequest, decodeResponse);
  const queue: ProcessingResponse[] = [];
  const waiters: { resolve: (m: ProcessingResponse | undefined) => void; reject: (e: Error) => void }[] = [];
  let ended = false;
  let failure: Error | undefined;
  let writable = true;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));

  const finish = (err?: Error): void => {
    writable = false;
    if (ended || failure) return;
    if (err) failure = err;
    else ended = true;
    for (const w of waiters.splice(0)) (err ? w.reject(err) : w.resolve(undefined));
    markClosed();
  };

  call.on('data', (msg: ProcessingResponse) => {
    const w = waiters.shift();
    if (w) w.resolve(msg);
    else queue.push(msg);
  });
  call.on('error', (err: Error) => finish(err));
  call.on('end', () => finish());

  const next = (): Promise<ProcessingResponse | undefined> => {
    const msg = queue.shift();
    if (msg) return Promise.resolve(msg);
    if (failure) return Promise.reject(failure);
    if (ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  };

  return {
    send(msg) {
      if (!writable) return false;
      call.write(msg);
      return true;
    },
    end() {
      if (!writable) return;
      writable = false;
      call.end();
    },
    next,
    cancel() {
      writable = false;
      if (!ended && !failure) call.cancel();
    },
    closed,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const msg = await next();
        if (msg === undefined) return;
        yield msg;
      }
    },
  };
}
