/**
 * Request control: everything between "the body is complete" and "the proxy knows where to send it", and
 * the response side after. Order (as the Go EPP's director): parse and validate the body (a bad body is a
 * 400 even with no pods) → objective → priority → model rewrite → candidates (subset hint) → saturation
 * and shedding → admitters → the pick cycle (producers, scheduler, PreRequest, reservation) → body rewrite.
 * Every route that succeeds is ended exactly once by `complete`, whatever happened to the stream, so the
 * in-flight count is always released.
 */
import type { Endpoint, EndpointSnapshot } from '../framework/endpoint.js';
import { UNREAD_BODY, type InferenceRequest } from '../framework/request.js';
import type { ParseInput, ParsedRequest, RequestParser } from '../framework/parser.js';
import type { SaturationDetector } from '../framework/saturation.js';
import type { Admitter, RequestOutcome, ResponseComplete, ResponseHeadersInfo, ResponseReceived, ResponseStreaming } from '../framework/request-control.js';
import { primaryTargets } from '../framework/scheduling.js';
import { HeaderEditList, type HeaderMutation } from '../framework/headers.js';
import { EppError, ErrorCodes, type ErrorCode } from '../errors.js';
import type { PickCycle, PickOutcome } from './pick-cycle.js';
import type { LoadTracker, Reservation } from './load-tracker.js';
import type { AdmissionRequest, CancelHook } from '../flowcontrol/controller.js';

/** What objectives and rewrite rules say (from --resources-file or Kubernetes), read per request. */
export interface RequestPolicies {
  priorityOf(objective: string): number;
  /** The rule-chosen target for `model`, or undefined when no rule matches it. */
  rewriteTarget(model: string): string | undefined;
}

export const NO_POLICIES: RequestPolicies = { priorityOf: () => 0, rewriteTarget: () => undefined };

/** What the director reports for metrics; the edge maps nothing here. */
export interface RequestObserver {
  routed(r: RoutedRequest): void;
  failed(incomingModel: string, targetModel: string, code: ErrorCode): void;
  completed(r: RoutedRequest, outcome: RequestOutcome, responseBytes: number): void;
  /** A response on a stream that had no request phase: counted under empty model labels. */
  completedUnrouted?(outcome: RequestOutcome, responseBytes: number): void;
}

export interface DirectorParts {
  readonly parser: RequestParser;
  readonly pickCycle: PickCycle;
  readonly tracker: LoadTracker;
  readonly snapshot: () => EndpointSnapshot;
  readonly saturation: SaturationDetector | undefined;
  readonly admitters: readonly Admitter[];
  readonly responseReceived: readonly ResponseReceived[];
  readonly responseStreaming: readonly ResponseStreaming[];
  readonly responseComplete: readonly ResponseComplete[];
  readonly policies: () => RequestPolicies;
  readonly observer?: RequestObserver;
  readonly newRequestId: () => string;
  /** Parses large bodies off the main thread; absent → everything inline. */
  readonly offload?: BodyOffload;
  /**
   * True for an endpoint that cannot be reached now (its scrapes fail to connect or time out and its
   * metrics are stale). Such endpoints are left out of the candidates unless that would leave none: a
   * dead pod stops drawing traffic (prefix affinity would otherwise keep sending it its documents).
   */
  readonly unreachable?: (endpoint: Endpoint) => boolean;
  /**
   * `unreachable` fixed at one instant, for a whole candidate list: the data layer reads its clock once
   * instead of once per endpoint (64 clock reads a request were 1 % of the CPU). Used when given.
   */
  readonly unreachableNow?: () => (endpoint: Endpoint) => boolean;
  /** The `flowControl` feature: requests with a body wait there instead of the legacy shedding. */
  readonly flowControl?: FlowGate;
}

/**
 * Flow control as the director sees it (src/flowcontrol implements it): a request waits in `admit` until
 * `dispatch` may run; `finished` says a routed request ended, so capacity may have freed.
 */
export interface FlowGate {
  admit(request: AdmissionRequest, dispatch: () => RoutedRequest | Promise<RoutedRequest>, cancel: CancelHook | undefined): RoutedRequest | Promise<RoutedRequest>;
  finished(routed: RoutedRequest): void;
}

/** The narrow view of the worker pool the director needs (src/pool implements it). */
export interface BodyOffload {
  wants(body: Uint8Array): boolean;
  parse(input: ParseInput): Promise<ParsedRequest>;
}

export interface RouteInput {
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  /** The request had no body at all (GET, or headers with end_of_stream). */
  readonly headerOnly: boolean;
  /** `ip:port` list from the proxy's subset hint; undefined when there was none. */
  readonly subset: readonly string[] | undefined;
  /** performance.now() when the request's headers arrived: request durations count from there. */
  readonly receivedAt?: number;
  /** Flow control: the stream sets `cancelled` and calls `onCancel` when its client goes away. */
  readonly cancel?: CancelHook;
  /** The caller's own deadline (performance.now() clock), e.g. the ext_proc stream's gRPC deadline. */
  readonly deadline?: number;
}

export interface RoutedRequest {
  readonly request: InferenceRequest;
  /** Primary first, then fallbacks, as `ip:port`. */
  readonly destinations: readonly string[];
  /** The primary pick; moved by `served` when the proxy reports that a fallback served the request. */
  endpoint: Endpoint;
  /** The body to forward (rewritten when the target model differs); `changed` says whether it did. */
  readonly body: Uint8Array;
  readonly bodyChanged: boolean;
  readonly requestBytes: number;
  readonly startedAt: number;
  /** Set by `complete`; a second call is ignored. */
  done: boolean;
  reservation: Reservation | undefined;
  /** Reservations on the other profiles' picks (a P/D prefill pod); released when the response starts or the request ends. */
  secondary?: readonly Reservation[];
  /** Request-header edits from PreRequest plugins (e.g. `x-prefiller-host-port`), for the routing reply. */
  readonly requestHeaders?: HeaderMutation;
  /** Set by the stream once the route is answered: ends the request now with flow control's eviction reply. */
  evict?: () => void;
}

export const HEADER_OBJECTIVE = 'x-gateway-inference-objective';
export const HEADER_MODEL_REWRITE = 'x-gateway-model-name-rewrite';
/** llm-d's names; each is read first, GIE's name when it is absent. */
export const HEADER_OBJECTIVE_LLMD = 'x-llm-d-inference-objective';
export const HEADER_MODEL_REWRITE_LLMD = 'x-llm-d-model-name-rewrite';
export const HEADER_FAIRNESS_ID = 'x-llm-d-inference-fairness-id';
export const HEADER_FAIRNESS_ID_GIE = 'x-gateway-inference-fairness-id';
export const DEFAULT_FAIRNESS_ID = 'default-flow';
export const HEADER_REQUEST_ID = 'x-request-id';

/** The API path: `:path`, else the headers proxies use when they rewrite it, else completions. */
export function requestPath(headers: Readonly<Record<string, string>>): string {
  return headers[':path'] || headers['x-original-path'] || headers['x-forwarded-path'] || '/v1/completions';
}


export class Director {
  readonly #p: DirectorParts;
  /** Errors `route` already counted, so the edge does not count them twice. */
  readonly #counted = new WeakSet<object>();

  constructor(parts: DirectorParts) {
    this.#p = parts;
  }

  /**
   * Parses inline and routes, synchronously: for requests without a body (nothing for an asynchronous
   * data producer to work on). With a body, use `routeOrOffload`.
   */
  route(input: RouteInput): RoutedRequest {
    const routed = this.#routeInline(input, false);
    if (routed instanceof Promise) {
      // Not expected: release whatever the late pick reserves, and say what went wrong.
      routed.then((r) => this.complete(r, { kind: 'disconnect' }), () => undefined);
      throw new EppError(ErrorCodes.INTERNAL, 'an asynchronous data producer ran on the synchronous route; use routeOrOffload');
    }
    return routed;
  }

  /**
   * As `route`, but a body the offload wants is parsed on a worker first, and asynchronous data producers
   * (a token producer calling a render endpoint or the worker pool) are awaited. The decision from the
   * pick to the reservation still runs in one synchronous piece, so nothing interleaves with it.
   */
  routeOrOffload(input: RouteInput): RoutedRequest | Promise<RoutedRequest> {
    const offload = this.#p.offload;
    if (!offload || input.headerOnly || !offload.wants(input.body)) return this.#routeInline(input, true);
    const labels = { incoming: '', target: '' };
    const path = requestPath(input.headers);
    return offload.parse({ path, headers: input.headers, body: input.body }).then(
      (parsed) => this.#countingFailures(labels, () => this.#decide(input, path, parsed, labels, true)),
      (err: unknown) => this.#countingFailures(labels, () => {
        throw err;
      }),
    );
  }

  /** `queue`: the request may wait in flow control (the synchronous `route` never queues). */
  #routeInline(input: RouteInput, queue: boolean): RoutedRequest | Promise<RoutedRequest> {
    const labels = { incoming: '', target: '' };
    const path = requestPath(input.headers);
    return this.#countingFailures(labels, () => this.#decide(input, path, this.#parseInline(input, path), labels, queue));
  }

  #parseInline(input: RouteInput, path: string): ParsedRequest {
    return input.headerOnly ? { model: '', body: UNREAD_BODY } : this.#p.parser.parse({ path, headers: input.headers, body: input.body });
  }

  /** Runs `decide`, counting a failure once under the models known when it failed. */
  #countingFailures<T>(labels: { incoming: string; target: string }, decide: () => T): T {
    const count = (err: unknown) => {
      if (err && typeof err === 'object' && this.#counted.has(err)) return;
      const code = err instanceof EppError ? err.code : ErrorCodes.INTERNAL;
      this.#p.observer?.failed(labels.incoming, labels.target || labels.incoming, code);
      if (err && typeof err === 'object') this.#counted.add(err);
    };
    try {
      const decided = decide();
      // A request that waited in flow control fails later: count it then.
      if (decided instanceof Promise) return decided.catch((err: unknown) => (count(err), Promise.reject(err))) as T;
      return decided;
    } catch (err) {
      count(err);
      throw err;
    }
  }

  #decide(input: RouteInput, path: string, parsed: ParsedRequest, labels: { incoming: string; target: string }, queue: boolean): RoutedRequest | Promise<RoutedRequest> {
    const startedAt = input.receivedAt ?? performance.now();
    const { headers } = input;
    const incoming = parsed.model;
    labels.incoming = incoming;
    const policies = this.#p.policies();
    const objective = headers[HEADER_OBJECTIVE_LLMD] ?? headers[HEADER_OBJECTIVE] ?? '';
    const priority = policies.priorityOf(objective);
    // The header names a target; a matching InferenceModelRewrite rule wins over it (as in the Go EPP).
    const target = (incoming && policies.rewriteTarget(incoming)) || headers[HEADER_MODEL_REWRITE_LLMD] || headers[HEADER_MODEL_REWRITE] || incoming;
    labels.target = target;
    const request: InferenceRequest = {
      requestId: headers[HEADER_REQUEST_ID] || this.#p.newRequestId(),
      incomingModel: incoming,
      targetModel: target,
      priority,
      objective,
      headers,
      body: parsed.body,
      promptTokens: Math.ceil(input.body.length / 4),
    };
    const flow = this.#p.flowControl;
    if (flow && queue && !input.headerOnly) {
      // Flow control: wait for room (no legacy shedding); candidates are taken when the request is dispatched.
      const fairnessId = headers[HEADER_FAIRNESS_ID] || headers[HEADER_FAIRNESS_ID_GIE] || DEFAULT_FAIRNESS_ID;
      const admission = { requestId: request.requestId, fairnessId, priority, byteSize: input.body.length, receivedAt: startedAt, headers, deadline: input.deadline, modelName: incoming, targetModelName: target };
      return flow.admit(admission, () => this.#pick(input, path, parsed, labels, request, startedAt, this.#candidates(input.subset)), input.cancel);
    }
    const candidates = this.#candidates(input.subset);
    if (priority < 0 && this.#p.saturation && this.#p.saturation.saturation(candidates) >= 1) {
      throw new EppError(ErrorCodes.SHED, `the pool is saturated and objective "${objective}" is sheddable (priority ${priority})`);
    }
    return this.#pick(input, path, parsed, labels, request, startedAt, candidates);
  }

  /** Admitters → the pick cycle (producers, scheduler, PreRequest, reservation) → the routed request. */
  #pick(input: RouteInput, path: string, parsed: ParsedRequest, labels: { incoming: string; target: string }, request: InferenceRequest, startedAt: number, candidates: readonly Endpoint[]): RoutedRequest | Promise<RoutedRequest> {
    for (const admitter of this.#p.admitters) {
      const verdict = admitter.admit(request, candidates);
      if (!verdict.admitted) throw new EppError(verdict.code as typeof ErrorCodes.SHED, `admission denied by ${admitter.name}: ${verdict.reason}`);
    }
    const outcome = this.#p.pickCycle.run(request, candidates);
    if (outcome instanceof Promise) {
      return outcome.then(
        (o) => this.#countingFailures(labels, () => this.#routed(input, path, parsed, request, o, startedAt)),
        (err: unknown) => this.#countingFailures(labels, () => {
          throw err;
        }),
      );
    }
    return this.#routed(input, path, parsed, request, outcome, startedAt);
  }

  #routed(input: RouteInput, path: string, parsed: ParsedRequest, request: InferenceRequest, outcome: PickOutcome, startedAt: number): RoutedRequest {
    const { result, reservation, secondary } = outcome;
    const { headers } = input;
    const incoming = request.incomingModel;
    const target = request.targetModel;
    const targets = primaryTargets(result);
    if (targets.length === 0) {
      if (reservation) this.#p.tracker.release(reservation);
      for (const r of secondary) this.#p.tracker.release(r);
      // PreRequest ran: response plugins release what it reserved (in-flight counts) here, as on every outcome.
      const failed: RequestOutcome = { kind: 'error', code: ErrorCodes.NO_CAPACITY };
      for (const p of this.#p.responseComplete) p.responseComplete(request, failed, undefined);
      throw new EppError(ErrorCodes.NO_CAPACITY, 'scheduling found no endpoint for the request');
    }
    const body =
      target !== incoming && !input.headerOnly ? this.#p.parser.rewriteModel({ path, headers, body: input.body }, parsed, target) : input.body;
    const routed: RoutedRequest = {
      request,
      destinations: targets.map((t) => t.endpoint.hostPort),
      endpoint: targets[0]!.endpoint,
      body,
      bodyChanged: body !== input.body,
      requestBytes: input.body.length,
      startedAt,
      done: false,
      reservation,
      secondary,
      requestHeaders: outcome.requestHeaders,
    };
    this.#p.observer?.routed(routed);
    return routed;
  }

  #candidates(subset: readonly string[] | undefined): readonly Endpoint[] {
    const unreachable = this.#p.unreachableNow?.() ?? this.#p.unreachable;
    const reachable = (set: readonly Endpoint[]) => {
      if (!unreachable) return set;
      let first = 0; // no copy unless some endpoint is out
      while (first < set.length && !unreachable(set[first]!)) first++;
      if (first === set.length) return set;
      const alive = set.slice(0, first);
      for (let i = first + 1; i < set.length; i++) if (!unreachable(set[i]!)) alive.push(set[i]!);
      return alive.length > 0 ? alive : set;
    };
    const all = this.#p.snapshot().endpoints;
    if (subset === undefined) {
      if (all.length === 0) throw new EppError(ErrorCodes.NO_ENDPOINTS, 'no endpoints available in the inference pool');
      return reachable(all);
    }
    if (subset.length === 0) throw new EppError(ErrorCodes.NO_ENDPOINTS, 'the subset hint lists no endpoints');
    const wanted = new Set(subset);
    const matched = all.filter((e) => wanted.has(e.hostPort));
    if (matched.length === 0) throw new EppError(ErrorCodes.NO_ENDPOINTS, `no endpoint of the pool matches the subset hint (${subset.slice(0, 5).join(', ')}${subset.length > 5 ? ', …' : ''})`);
    return reachable(matched);
  }

  /** A request refused before or outside routing (e.g. an over-limit body): counted once as an error. */
  rejected(err: unknown): void {
    if (err && typeof err === 'object' && this.#counted.has(err)) return;
    this.#p.observer?.failed('', '', err instanceof EppError ? err.code : ErrorCodes.INTERNAL);
  }

  /**
   * The proxy says which endpoint served the request (`x-gateway-destination-endpoint-served`). When a
   * fallback did, the in-flight reservation moves there and response plugins see that endpoint.
   */
  served(routed: RoutedRequest, hostPort: string): void {
    if (routed.done || hostPort === routed.endpoint.hostPort || !routed.destinations.includes(hostPort)) return;
    const endpoint = this.#p.snapshot().endpoints.find((e) => e.hostPort === hostPort);
    if (!endpoint) return;
    if (routed.reservation) {
      this.#p.tracker.release(routed.reservation);
      routed.reservation = this.#p.tracker.reserve(endpoint.key, routed.reservation.tokens);
    }
    routed.endpoint = endpoint;
  }

  /**
   * The response started: the other profiles' pods (a prefill pod) have done their part, so their
   * reservations end; response plugins run. Returns the response-header edits they asked for, if any.
   * A plugin that throws fails this request (500 at the edge), named in the error.
   */
  responseHeaders(routed: RoutedRequest, info: ResponseHeadersInfo): HeaderMutation | undefined {
    this.#releaseSecondary(routed);
    if (this.#p.responseReceived.length === 0) return undefined;
    const edits = new HeaderEditList();
    for (const p of this.#p.responseReceived) {
      try {
        p.responseReceived(routed.request, info, routed.endpoint, edits);
      } catch (err) {
        throw pluginFailure(p.name, 'ResponseReceived', err);
      }
    }
    return edits.isEmpty ? undefined : edits.mutation;
  }

  #releaseSecondary(routed: RoutedRequest): void {
    if (!routed.secondary || routed.secondary.length === 0) return;
    for (const r of routed.secondary) this.#p.tracker.release(r);
    routed.secondary = undefined;
  }

  responseChunk(routed: RoutedRequest, chunk: Uint8Array): void {
    for (const p of this.#p.responseStreaming) {
      try {
        p.responseStreaming(routed.request, chunk, routed.endpoint);
      } catch (err) {
        throw pluginFailure(p.name, 'ResponseStreaming', err);
      }
    }
  }

  /**
   * A response that ended on a stream the proxy began at the response phase (it skipped the request
   * phase): nothing to release, but its usage and outcome are still counted, with empty model labels, as
   * the Go EPP counts them.
   */
  completeUnrouted(outcome: RequestOutcome, responseBytes = 0): void {
    this.#p.observer?.completedUnrouted?.(outcome, responseBytes);
  }

  /** Ends a routed request: releases its reservation and tells the response plugins. Idempotent. */
  complete(routed: RoutedRequest, outcome: RequestOutcome, responseBytes = 0): void {
    if (routed.done) return;
    routed.done = true;
    if (routed.reservation) this.#p.tracker.release(routed.reservation);
    this.#releaseSecondary(routed);
    this.#p.flowControl?.finished(routed);
    // Every plugin hears of the end even when one throws; the first failure is counted and rethrown.
    let failure: EppError | undefined;
    for (const p of this.#p.responseComplete) {
      try {
        p.responseComplete(routed.request, outcome, routed.endpoint);
      } catch (err) {
        failure ??= pluginFailure(p.name, 'ResponseComplete', err);
      }
    }
    const counted: RequestOutcome = failure && outcome.kind === 'success' ? { kind: 'error', code: ErrorCodes.INTERNAL, status: 500 } : outcome;
    this.#p.observer?.completed(routed, counted, responseBytes);
    if (failure) throw failure;
  }
}

/** A plugin's throw as the EPP's own error: internal (500), naming the plugin and where it ran. */
function pluginFailure(plugin: string, point: string, err: unknown): EppError {
  if (err instanceof EppError) return err;
  return new EppError(ErrorCodes.INTERNAL, `plugin "${plugin}" failed in ${point}: ${err instanceof Error ? err.message : String(err)}`);
}
