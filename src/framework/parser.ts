/**
 * Request parsers: turn an HTTP request's path, headers and complete body into the scheduling view of its
 * body. Selected by config `parser.pluginRef` (default `openai-parser`). A parser never touches the wire.
 */
import type { Plugin } from './plugin.js';
import type { RequestBody } from './request.js';

export interface ParseInput {
  /** The request path (`:path`, else `x-original-path` / `x-forwarded-path`), query string included. */
  readonly path: string;
  /** Lower-case header names; values as the proxy sent them. */
  readonly headers: Readonly<Record<string, string>>;
  /** The whole request body; empty for header-only requests. */
  readonly body: Uint8Array;
}

export interface ParsedRequest {
  /** The body's `model`; '' for parsers that do not read it (passthrough). */
  readonly model: string;
  readonly body: RequestBody;
}

export interface RequestParser extends Plugin {
  /** Throws an EppError with code BAD_REQUEST and a message naming the problem when the body is invalid. */
  parse(input: ParseInput): ParsedRequest;
  /**
   * The body to send upstream with `model` replaced by `targetModel`. Implementations splice the bytes of
   * the model value rather than re-serialising the whole body. Returns `body` itself when nothing changes.
   */
  rewriteModel(input: ParseInput, parsed: ParsedRequest, targetModel: string): Uint8Array;
}

export function isRequestParser(p: Plugin): p is RequestParser {
  return typeof (p as Partial<RequestParser>).parse === 'function' && typeof (p as Partial<RequestParser>).rewriteModel === 'function';
}
