/**
 * Request-control contracts: what runs around scheduling in the director. PreRequest runs right after the
 * pick and before the answer goes to the proxy, so the next cycle already sees the reservation.
 */
import type { Plugin } from './plugin.js';
import type { Endpoint } from './endpoint.js';
import type { InferenceRequest } from './request.js';
import type { CycleState } from './cycle-state.js';
import type { SchedulingResult } from './scheduling.js';
import type { HeaderEdits } from './headers.js';
// The errors module is a leaf (it imports nothing): its codes are part of the contracts.
import type { ErrorCode } from '../errors.js';

export interface PreRequest extends Plugin {
  /**
   * `requestHeaders` edits the headers of the request the proxy forwards to the pick (they travel in the
   * routing reply); a plugin that sets none may leave the argument out.
   */
  preRequest(request: InferenceRequest, result: SchedulingResult, cycleState: CycleState, requestHeaders: HeaderEdits): void;
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedPromptTokens: number;
}

/** How a request ended: response plugins release what PreRequest reserved in every case. */
export type RequestOutcome =
  | { readonly kind: 'success'; readonly usage?: TokenUsage }
  | { readonly kind: 'error'; readonly code: ErrorCode; readonly status?: number }
  | { readonly kind: 'disconnect' };

export interface ResponseHeadersInfo {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ResponseReceived extends Plugin {
  /** `responseHeaders` edits the response headers the client gets (e.g. a session token). */
  responseReceived(request: InferenceRequest, response: ResponseHeadersInfo, endpoint: Endpoint | undefined, responseHeaders: HeaderEdits): void;
}

export interface ResponseStreaming extends Plugin {
  responseStreaming(request: InferenceRequest, chunk: Uint8Array, endpoint: Endpoint | undefined): void;
}

export interface ResponseComplete extends Plugin {
  responseComplete(request: InferenceRequest, outcome: RequestOutcome, endpoint: Endpoint | undefined): void;
}

/** Declares the data it needs; the loader adds a default producer for data nobody produces. */
export interface DataConsumer {
  readonly consumes: readonly string[];
  /** Data it reads when present: producers of it run first, but no default producer is added for it. */
  readonly uses?: readonly string[];
}

/**
 * Computes per-request data for the candidates before scheduling (e.g. prefix-cache matches). A producer
 * whose work is not synchronous (an HTTP call, a worker task) returns a promise; the pick cycle then waits
 * for it before the next producer. Producers that return nothing keep the whole cycle synchronous.
 */
export interface DataProducer extends Plugin, DataConsumer {
  readonly produces: readonly string[];
  produce(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): void | Promise<void>;
}

export type AdmissionResult =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly code: ErrorCode; readonly reason: string };

export interface Admitter extends Plugin {
  admit(request: InferenceRequest, candidates: readonly Endpoint[]): AdmissionResult;
}

export function isPreRequest(p: Plugin): p is PreRequest {
  return typeof (p as Partial<PreRequest>).preRequest === 'function';
}
export function isResponseReceived(p: Plugin): p is ResponseReceived {
  return typeof (p as Partial<ResponseReceived>).responseReceived === 'function';
}
export function isResponseStreaming(p: Plugin): p is ResponseStreaming {
  return typeof (p as Partial<ResponseStreaming>).responseStreaming === 'function';
}
export function isResponseComplete(p: Plugin): p is ResponseComplete {
  return typeof (p as Partial<ResponseComplete>).responseComplete === 'function';
}
export function isDataProducer(p: Plugin): p is DataProducer {
  return typeof (p as Partial<DataProducer>).produce === 'function' && Array.isArray((p as Partial<DataProducer>).produces);
}
export function isDataConsumer(p: object): p is DataConsumer {
  return Array.isArray((p as Partial<DataConsumer>).consumes);
}
export function isAdmitter(p: Plugin): p is Admitter {
  return typeof (p as Partial<Admitter>).admit === 'function';
}
