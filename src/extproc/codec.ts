/**
 * The ext_proc messages on the wire: the proto/ subset loaded with protobufjs once, at start-up. Decoding
 * gives protobufjs message objects (camelCase fields, bytes as Buffer/Uint8Array, oneof case names in
 * `request` / `response`); encoding takes plain objects of the same shape (written by response-encoder.ts).
 * No toObject/fromObject pass on the hot path: a 400 KB body is decoded as one slice of the frame.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import protobuf from 'protobufjs';
import { encodeProcessingResponse } from './response-encoder.js';

export const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

/** Loads proto files from proto/ (google/protobuf/* come with protobufjs). */
export function loadProtos(files: readonly string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') || path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
  root.loadSync([...files]);
  root.resolveAll();
  return root;
}

const root = loadProtos(['envoy/service/ext_proc/v3/external_processor.proto']);
export const ProcessingRequestType = root.lookupType('envoy.service.ext_proc.v3.ProcessingRequest');
export const ProcessingResponseType = root.lookupType('envoy.service.ext_proc.v3.ProcessingResponse');
export const PROCESS_PATH = '/envoy.service.ext_proc.v3.ExternalProcessor/Process';
export const EXT_PROC_SERVICE = 'envoy.service.ext_proc.v3.ExternalProcessor';

export interface HeaderValue {
  key: string;
  value?: string;
  rawValue?: Uint8Array;
}
export interface HeaderMap {
  headers?: HeaderValue[];
}
export interface HttpHeaders {
  headers?: HeaderMap;
  endOfStream?: boolean;
}
export interface HttpBody {
  body?: Uint8Array;
  endOfStream?: boolean;
}
export interface HttpTrailers {
  trailers?: HeaderMap;
}

/** google.protobuf.Value / Struct as protobufjs represents them (camelCase oneof members). */
export interface PbValue {
  nullValue?: number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: PbStruct;
  listValue?: { values?: PbValue[] };
}
export interface PbStruct {
  fields?: Record<string, PbValue>;
}

export const BodySendMode = { NONE: 0, STREAMED: 1, BUFFERED: 2, BUFFERED_PARTIAL: 3, FULL_DUPLEX_STREAMED: 4, GRPC: 5 } as const;

export interface ProcessingRequest {
  request?: 'requestHeaders' | 'responseHeaders' | 'requestBody' | 'responseBody' | 'requestTrailers' | 'responseTrailers';
  requestHeaders?: HttpHeaders;
  responseHeaders?: HttpHeaders;
  requestBody?: HttpBody;
  responseBody?: HttpBody;
  requestTrailers?: HttpTrailers;
  responseTrailers?: HttpTrailers;
  metadataContext?: { filterMetadata?: Record<string, PbStruct> };
  observabilityMode?: boolean;
  protocolConfig?: { requestBodyMode?: number; responseBodyMode?: number };
}

export const AppendAction = { APPEND_IF_EXISTS_OR_ADD: 0, ADD_IF_ABSENT: 1, OVERWRITE_IF_EXISTS_OR_ADD: 2, OVERWRITE_IF_EXISTS: 3 } as const;

export interface HeaderValueOption {
  header: HeaderValue;
  appendAction?: number;
}
export interface HeaderMutation {
  setHeaders?: HeaderValueOption[];
  removeHeaders?: string[];
}
export interface CommonResponse {
  status?: number;
  headerMutation?: HeaderMutation;
  bodyMutation?: { body?: Uint8Array; clearBody?: boolean; streamedResponse?: { body?: Uint8Array; endOfStream?: boolean } };
  clearRouteCache?: boolean;
}
export interface ProcessingResponse {
  requestHeaders?: { response?: CommonResponse };
  responseHeaders?: { response?: CommonResponse };
  requestBody?: { response?: CommonResponse };
  responseBody?: { response?: CommonResponse };
  requestTrailers?: { headerMutation?: HeaderMutation };
  responseTrailers?: { headerMutation?: HeaderMutation };
  immediateResponse?: { status?: { code: number }; headers?: HeaderMutation; body?: Uint8Array; details?: string; grpcStatus?: { status: number } };
  dynamicMetadata?: PbStruct;
}

export function decodeRequest(frame: Buffer): ProcessingRequest {
  return ProcessingRequestType.decode(frame) as unknown as ProcessingRequest;
}

/** The EPP's encoder (written by hand: response-encoder.ts). */
export const encodeResponse: (message: ProcessingResponse) => Buffer = encodeProcessingResponse;

/** protobufjs's generated encoder, as a plain grpc-js server would use it (the benchmarks' echo server). */
export function encodeResponseWithProtobufjs(message: ProcessingResponse): Buffer {
  const bytes = ProcessingResponseType.encode(message as unknown as protobuf.Message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** For clients (the demo gateway, tests): the other direction. */
export function encodeRequest(message: ProcessingRequest): Buffer {
  const bytes = ProcessingRequestType.encode(message as unknown as protobuf.Message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeResponse(frame: Buffer): ProcessingResponse {
  return ProcessingResponseType.decode(frame) as unknown as ProcessingResponse;
}

/** A header's value as text: `raw_value` (what Envoy sends) wins over `value`. */
export function headerText(h: HeaderValue): string {
  const raw = h.rawValue;
  if (!raw || raw.length === 0) return h.value ?? '';
  // Decoded values are Buffers already (a view of the frame); a new view per header cost ~110 ns.
  return (Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)).toString('utf8');
}

/** Header list → lower-case name → value (later duplicates join with ", " as HTTP allows). */
export function headerRecord(map: HeaderMap | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of map?.headers ?? []) {
    const key = h.key.toLowerCase();
    const value = headerText(h);
    out[key] = key in out ? `${out[key]}, ${value}` : value;
  }
  return out;
}

/** A header to set, written as `raw_value` like Envoy's own, replacing any existing value. */
export function setHeader(key: string, value: string): HeaderValueOption {
  return { header: { key, rawValue: Buffer.from(value, 'utf8') }, appendAction: AppendAction.OVERWRITE_IF_EXISTS_OR_ADD };
}
