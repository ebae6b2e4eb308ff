/**
 * The Endpoint Picker protocol's names on top of ext_proc (reference/ext-proc-wire.md): where the pick goes,
 * where the proxy's subset hint and served endpoint come from. One place for the EPP, the demo gateway and
 * the benchmarks' echo server, so none of them spells them differently.
 */
import type { PbStruct } from './codec.js';

/** Header and `envoy.lb` metadata key carrying the pick: `ip:port`, comma-joined fallbacks. */
export const DESTINATION_HEADER = 'x-gateway-destination-endpoint';
export const SUBSET_HEADER = 'x-gateway-destination-endpoint-subset';
/** Where the proxy reports, on the response path, which endpoint served the request. */
export const SERVED_KEY = 'x-gateway-destination-endpoint-served';
export const LB_NAMESPACE = 'envoy.lb';
export const SUBSET_NAMESPACE = 'envoy.lb.subset_hint';
/** The Go EPP's chunk size for bodies sent back in streamed_response. */
export const STREAM_CHUNK_BYTES = 62_000;

/** `dynamic_metadata` naming the pick under `envoy.lb`. */
export function lbMetadata(destination: string): PbStruct {
  return { fields: { [LB_NAMESPACE]: { structValue: { fields: { [DESTINATION_HEADER]: { stringValue: destination } } } } } };
}

/** A body as streamed_response chunks of at most `size` bytes. */
export function chunks(body: Uint8Array, size = STREAM_CHUNK_BYTES): Uint8Array[] {
  if (body.length <= size) return [body];
  const out: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}

/**
 * Headers the EPP owns (the Go EPP's `IsSystemOwnedHeader`): the control inputs it consumes, in both the
 * `x-gateway-*` and the newer `x-llm-d-*` spelling, the outputs it injects, and `content-length`. Every
 * other request header is echoed in the routing reply's header mutation.
 */
export const SYSTEM_OWNED_HEADERS: ReadonlySet<string> = new Set([
  'x-gateway-inference-objective', 'x-llm-d-inference-objective',
  'x-gateway-inference-fairness-id', 'x-llm-d-inference-fairness-id',
  'x-gateway-model-name-rewrite', 'x-llm-d-model-name-rewrite',
  SUBSET_HEADER,
  'x-slo-ttft-ms', 'x-llm-d-slo-ttft-ms',
  'x-slo-tpot-ms', 'x-llm-d-slo-tpot-ms',
  'x-llm-d-video-fps', 'x-llm-d-video-duration-seconds', 'x-llm-d-video-resolution',
  DESTINATION_HEADER,
  SERVED_KEY,
  'x-llm-d-request-dropped-reason',
  'content-length',
]);
