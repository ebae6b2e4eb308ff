/**
 * What the disaggregation plugins share (llm-d's names): the role label, the headers that tell the decode
 * pod's sidecar where prefill and encode run, the decider contract, and the decision labels.
 */
import type { CycleState } from '../../framework/cycle-state.js';
import type { Endpoint } from '../../framework/endpoint.js';
import type { HeaderEdits } from '../../framework/headers.js';
import type { Plugin } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { SchedulingResult } from '../../framework/scheduling.js';

export const ROLE_LABEL = 'llm-d.ai/role';
export const Roles = {
  decode: 'decode',
  prefill: 'prefill',
  encode: 'encode',
  prefillDecode: 'prefill-decode',
  encodePrefill: 'encode-prefill',
  encodePrefillDecode: 'encode-prefill-decode',
  both: 'both',
} as const;

/** Request header naming the prefill pod (`ip:port`) for the decode pod's sidecar. */
/** Cycle-state key of the endpoint picked by an earlier stage (the decode pick, for the prefill profile's plugins). */
export const PEER_ENDPOINT_KEY = 'peer-endpoint';
export const PREFILL_HEADER = 'x-prefiller-host-port';
/** Request header naming the encode pods (`ip:port,ip:port`). */
export const ENCODERS_HEADER = 'x-encoder-hosts-ports';

export const DEFAULT_DECODE_PROFILE = 'decode';
export const DEFAULT_PREFILL_PROFILE = 'prefill';
export const DEFAULT_ENCODE_PROFILE = 'encode';

/** Says whether a stage (prefill, encode) runs on its own pods for this request. */
export interface DisaggDecider extends Plugin {
  /** `decode` is the decode pick (absent when the stage runs before decode). */
  disaggregate(request: InferenceRequest, decode: Endpoint | undefined, cycleState: CycleState): boolean;
}

export function isDisaggDecider(p: Plugin): p is DisaggDecider {
  return typeof (p as Partial<DisaggDecider>).disaggregate === 'function';
}

/** The `decision_type` label of llm-d's disaggregation decision counters. */
export function decisionType(encodeUsed: boolean, prefillUsed: boolean): string {
  if (encodeUsed && prefillUsed) return 'encode-prefill-decode';
  if (encodeUsed) return 'encode-decode';
  if (prefillUsed) return 'prefill-decode';
  return 'decode-only';
}

const MEDIA_PARTS = new Set(['image_url', 'input_image', 'input_audio', 'audio_url', 'video_url', 'image', 'audio', 'video']);

/**
 * True when the request carries images, audio or video: multimodal features from a tokenizer, or media
 * content parts in the chat / responses body.
 */
export function hasMultimodalContent(request: InferenceRequest): boolean {
  if (request.tokenizedPrompt?.prompts.some((p) => (p.multiModalFeatures?.length ?? 0) > 0)) return true;
  const json = request.body.json;
  if (!json) return false;
  const lists = [json['messages'], json['input']];
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      const content = (item as { content?: unknown } | null)?.content;
      if (!Array.isArray(content)) continue;
      for (const part of content) {
        const type = (part as { type?: unknown } | null)?.type;
        if (typeof type === 'string' && MEDIA_PARTS.has(type)) return true;
      }
    }
  }
  return false;
}

/**
 * Sets (or clears) the disaggregation headers from a scheduling result: the prefill profile's first pick
 * in `x-prefiller-host-port`, every encode pick in `x-encoder-hosts-ports`. A header the client sent
 * is removed when the stage did not run, so a client cannot steer the sidecar.
 */
export function setDisaggHeaders(
  request: InferenceRequest,
  result: SchedulingResult,
  profiles: { readonly prefill: string; readonly encode: string },
  headers: HeaderEdits,
): void {
  const prefill = result.profileResults.get(profiles.prefill)?.targetEndpoints[0]?.endpoint;
  if (prefill) headers.set(PREFILL_HEADER, prefill.hostPort);
  else if (request.headers[PREFILL_HEADER] !== undefined) headers.remove(PREFILL_HEADER);
  const encoders = result.profileResults.get(profiles.encode)?.targetEndpoints.map((t) => t.endpoint.hostPort) ?? [];
  if (encoders.length > 0) headers.set(ENCODERS_HEADER, encoders.join(','));
  else if (request.headers[ENCODERS_HEADER] !== undefined) headers.remove(ENCODERS_HEADER);
}
