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
  /** A bug or an unexpected failure inside the EPP. */
  INTERNAL: 'EPP_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class EppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EppError';
    this.code = code;
  }
}

/** A configuration problem; `path` names where, e.g. `schedulingProfiles[0].plugins[1].pluginRef`. */
export class ConfigError extends EppError {
  readonly path: string;
  /** The message without the path, so a caller can re-anchor the error under its own path. */
  readonly detail: string;
  constructor(path: string, message: string) {
    super(ErrorCodes.CONFIG_INVALID, path ? `${path}: ${message}` : message);
    this.name = 'ConfigError';
    this.path = path;
    this.detail = message;
  }

  /** The same error, located under `prefix` (e.g. `plugins[2]`). */
  under(prefix: string): ConfigError {
    return new ConfigError(this.path ? `${prefix}.${this.path}` : prefix, this.detail);
  }
}

/** HTTP status for an error code, used by the ext_proc edge for ImmediateResponse. */
export function httpStatusOf(code: string): number {
  switch (code) {
    case ErrorCodes.BAD_REQUEST:
      return 400;
    case ErrorCodes.BODY_TOO_LARGE:
      return 413;
    case ErrorCodes.NO_CAPACITY:
    case ErrorCodes.SHED:
      return 429;
    case ErrorCodes.NO_ENDPOINTS:
      return 503;
    default:
      return 500;
  }
}

/** The Go EPP's name for an error code, as it appears in ImmediateResponse bodies and metric labels. */
export function goErrorName(code: string): string {
  switch (code) {
    case ErrorCodes.BAD_REQUEST:
    case ErrorCodes.BODY_TOO_LARGE:
      return 'BadRequest';
    case ErrorCodes.NO_CAPACITY:
    case ErrorCodes.SHED:
      return 'InferencePoolResourceExhausted';
    case ErrorCodes.NO_ENDPOINTS:
      return 'ServiceUnavailable';
    case ErrorCodes.MODEL_SERVER_ERROR:
      return 'ModelServerError';
    default:
      return 'Internal';
  }
}

export function asEppError(err: unknown): EppError {
  if (err instanceof EppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new EppError(ErrorCodes.INTERNAL, message, { cause: err });
}
