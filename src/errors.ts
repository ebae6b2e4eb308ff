/**
 * The one errors module. Every error the EPP raises carries a stable `code`; HTTP and gRPC statuses are
 * derived from the code only at the edge (ext_proc ImmediateResponse, health, CLI exit).
 */

export const ErrorCodes = {
  /** The configuration file or flags are invalid. */
  CONFIG_INVALID: 'EPP_CONFIG_INVALID',
  /** The request is malformed (bad JSON, missing model, wrong field types). */
  BAD_REQUEST: 'EPP_BAD_REQUEST',
  /** The request body is larger than the configured limit. */
  BODY_TOO_LARGE: 'EPP_BODY_TOO_LARGE',
  /** No candidate endpoints: the pool is empty or the subset hint matched none. */
  NO_ENDPOINTS: 'EPP_NO_ENDPOINTS',
  /** Scheduling ran and every profile's filters left nothing: no capacity for this request. */
  NO_CAPACITY: 'EPP_NO_CAPACITY',
  /** A sheddable request arrived while the pool is saturated. */
  SHED: 'EPP_SHED',
  /** The model server answered with an error status (the response itself passes through to the client). */
  MODEL_SERVER_ERROR: 'EPP_MODEL_SERVER_ERROR',
  /** Flow control: the queue is full (429), or a queued request waited out its TTL (429). */
  QUEUE_FULL: 'EPP_QUEUE_FULL',
  QUEUE_TTL_EXPIRED: 'EPP_QUEUE_TTL_EXPIRED',
  /** Flow control: the request cannot wait (no endpoints to wait for, the client left, shutdown): 503. */
  QUEUE_UNAVAILABLE: 'EPP_QUEUE_UNAVAILABLE',
  /** Flow control evicted an in-flight sheddable request to make room for a more important one (429). */
  EVICTED: 'EPP_EVICTED',
  /** A bug or an unexpected failure inside the EPP. */
  INTERNAL: 'EPP_INTERNAL',
  /** The proxy asked for an ext_proc body mode the EPP cannot route with (STREAMED, GRPC). */
  UNSUPPORTED_BODY_MODE: 'EPP_UNSUPPORTED_BODY_MODE',
  /** Every ext_proc stream slot is taken (--max-concurrent-streams). */
  STREAMS_EXHAUSTED: 'EPP_STREAMS_EXHAUSTED',
  /** The proxy sent nothing on a stream for longer than --stream-idle-timeout. */
  STREAM_IDLE: 'EPP_STREAM_IDLE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class EppError extends Error {
  readonly code: ErrorCode;
  /** Extra response headers the edge sets on the error reply (e.g. `x-llm-d-request-dropped-reason`). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; headers?: Readonly<Record<string, string>> }) {
    super(message, options);
    this.name = 'EppError';
    this.code = code;
    this.headers = options?.headers;
  }
}

/** A configuration problem; `path` names where, e.g. `schedulingProfiles[0].plugins[1].pluginRef`. */
export class ConfigError extends EppError {
  readonly path: string;
  /** The message without the path, so a caller can re-anchor the error under its own path. */
  readonly detail: string;
  /** Where in the user's file, e.g. `my-config.yaml:4`; '' when not known. Leads the message. */
  readonly location: string;
  constructor(path: string, message: string, location = '') {
    super(ErrorCodes.CONFIG_INVALID, `${location ? `${location}: ` : ''}${path ? `${path}: ` : ''}${message}`);
    this.name = 'ConfigError';
    this.path = path;
    this.detail = message;
    this.location = location;
  }

  /** The same error, located under `prefix` (e.g. `plugins[2]`). */
  under(prefix: string): ConfigError {
    return new ConfigError(this.path ? `${prefix}.${this.path}` : prefix, this.detail, this.location);
  }

  /** The same error, placed in the user's file (`file:line`). */
  at(location: string): ConfigError {
    return new ConfigError(this.path, this.detail, location);
  }
}

/** HTTP status per code, used by the ext_proc edge for ImmediateResponse. A code without one does not compile. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCodes.CONFIG_INVALID]: 500,
  [ErrorCodes.BAD_REQUEST]: 400,
  [ErrorCodes.BODY_TOO_LARGE]: 413,
  [ErrorCodes.NO_ENDPOINTS]: 503,
  [ErrorCodes.NO_CAPACITY]: 429,
  [ErrorCodes.SHED]: 429,
  [ErrorCodes.QUEUE_FULL]: 429,
  [ErrorCodes.QUEUE_TTL_EXPIRED]: 429,
  [ErrorCodes.QUEUE_UNAVAILABLE]: 503,
  [ErrorCodes.EVICTED]: 429,
  [ErrorCodes.MODEL_SERVER_ERROR]: 500,
  [ErrorCodes.INTERNAL]: 500,
  [ErrorCodes.UNSUPPORTED_BODY_MODE]: 500,
  [ErrorCodes.STREAMS_EXHAUSTED]: 503,
  [ErrorCodes.STREAM_IDLE]: 408,
};

/** The Go EPP's error names, as they appear in ImmediateResponse bodies and the `error_code` metric label. */
export type GoErrorName = 'BadRequest' | 'InferencePoolResourceExhausted' | 'ResourceExhausted' | 'ServiceUnavailable' | 'ModelServerError' | 'Internal';

/** The Go EPP's name per code. A code without one does not compile. */
export const GO_ERROR_NAME: Readonly<Record<ErrorCode, GoErrorName>> = {
  [ErrorCodes.CONFIG_INVALID]: 'Internal',
  [ErrorCodes.BAD_REQUEST]: 'BadRequest',
  [ErrorCodes.BODY_TOO_LARGE]: 'BadRequest',
  [ErrorCodes.NO_ENDPOINTS]: 'ServiceUnavailable',
  [ErrorCodes.NO_CAPACITY]: 'InferencePoolResourceExhausted',
  [ErrorCodes.SHED]: 'InferencePoolResourceExhausted',
  // Flow control's exits carry llm-d's names.
  [ErrorCodes.QUEUE_FULL]: 'ResourceExhausted',
  [ErrorCodes.QUEUE_TTL_EXPIRED]: 'ResourceExhausted',
  [ErrorCodes.QUEUE_UNAVAILABLE]: 'ServiceUnavailable',
  [ErrorCodes.EVICTED]: 'ResourceExhausted',
  [ErrorCodes.MODEL_SERVER_ERROR]: 'ModelServerError',
  [ErrorCodes.INTERNAL]: 'Internal',
  [ErrorCodes.UNSUPPORTED_BODY_MODE]: 'Internal',
  [ErrorCodes.STREAMS_EXHAUSTED]: 'ServiceUnavailable',
  [ErrorCodes.STREAM_IDLE]: 'BadRequest',
};

export const httpStatusOf = (code: ErrorCode): number => HTTP_STATUS[code];
export const goErrorName = (code: ErrorCode): GoErrorName => GO_ERROR_NAME[code];

/** Narrows a code that crossed a boundary as a string (a worker's reply); an unknown one is INTERNAL. */
export function errorCodeOf(code: string): ErrorCode {
  return Object.prototype.hasOwnProperty.call(HTTP_STATUS, code) ? (code as ErrorCode) : ErrorCodes.INTERNAL;
}

export function asEppError(err: unknown): EppError {
  if (err instanceof EppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new EppError(ErrorCodes.INTERNAL, message, { cause: err });
}
