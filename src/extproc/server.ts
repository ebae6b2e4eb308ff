/**
 * The ext_proc gRPC service: `envoy.service.ext_proc.v3.ExternalProcessor/Process`, one ProcessStream per
 * call. Messages are (de)serialised by the protobufjs codec directly (no proto-loader object conversion).
 * Every stream is tracked so shutdown can end them and tests can assert none leaked.
 */
import * as grpc from '@grpc/grpc-js';
import type { Director } from '../director/director.js';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, PROCESS_PATH, type ProcessingRequest, type ProcessingResponse } from './codec.js';
import { ProcessStream, type StreamOptions } from './process-stream.js';

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

export class ExtProcService {
  readonly #director: Director;
  readonly #options: StreamOptions;
  readonly #open = new Set<grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>>();

  constructor(director: Director, options: StreamOptions) {
    this.#director = director;
    this.#options = options;
  }

  /** Streams currently open. */
  get openStreams(): number {
    return this.#open.size;
  }

  addTo(server: grpc.Server): void {
    server.addService(extProcServiceDefinition, { Process: (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => this.#process(call) });
  }

  #process(call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>): void {
    this.#open.add(call);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      call.end();
    };
    const stream = new ProcessStream(
      this.#director,
      {
        send: (m) => {
          if (!ended) call.write(m);
        },
        end,
      },
      this.#options,
    );
    const closed = () => {
      this.#open.delete(call);
      stream.onClosed();
    };
    call.on('data', (m: ProcessingRequest) => stream.onMessage(m));
    call.on('end', () => stream.onHalfClose());
    call.on('error', closed);
    call.on('cancelled', closed);
    call.on('close', closed);
    call.on('finish', () => this.#open.delete(call));
  }

  /** Ends every open stream (shutdown). */
  closeAll(): void {
    for (const call of this.#open) {
      call.end();
    }
    this.#open.clear();
  }
}
