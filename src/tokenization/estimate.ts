/**
 * llm-d's `estimate` backend (dp/tokenizer/estimate.go, mm_estimate.go): no tokenizer; the request's
 * bytes, zero-padded to a multiple of 4, packed as little-endian uint32 pseudo-tokens. Token-id inputs
 * pass through. Bytes per API: chat = JSON(tools) if any, then per message its role and content (text
 * parts; media as placeholder runs), no separators; completions = the prompt (one prompt per string of a
 * list); responses = JSON([{instructions}?, {tools}?, {input}]); conversations = JSON(items);
 * embeddings = JSON(input). JSON as Go writes it (go-json.ts). The ids never match engine tokens: they
 * only carry content locality.
 */
import type { ApiKind, MultiModalFeature, PromptTokens } from '../framework/request.js';
import { xxh64 } from '../plugins/approx-prefix-cache-producer/xxh64.js';
import { goJsonMarshal } from './go-json.js';
import { imageDimensions } from './image-size.js';

const BYTES_PER_TOKEN = 4;
const encoder = new TextEncoder();

export interface ImageEstimate {
  readonly mode?: 'dynamic' | 'static';
  readonly defaultResolution?: { readonly width: number; readonly height: number };
  readonly factor?: number;
  readonly staticToken?: number;
}

export interface VideoEstimate {
  readonly tokensPerFrameMode?: 'dynamic' | 'static';
  readonly factor?: number;
  readonly numTokensPerFrame?: number;
  readonly framesMode?: 'sampled' | 'strided';
  readonly minFrames?: number;
  readonly maxFrames?: number;
  readonly sampleFPS?: number;
  readonly temporalPatchSize?: number;
  readonly defaultSourceFPS?: number;
  readonly frameStride?: number;
  readonly defaultResolution?: { readonly width: number; readonly height: number };
  readonly defaultDuration?: number;
  readonly maxVideoTokens?: number;
}

export interface EstimateOptions {
  readonly image?: ImageEstimate;
  readonly video?: VideoEstimate;
}

/** Video facts a request may carry in `x-llm-d-video-*` headers. */
export interface VideoMetadata {
  readonly width?: number;
  readonly height?: number;
  readonly duration?: number;
  readonly fps?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTokenIds = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x >= 0);

/** A growing byte buffer. */
class Bytes {
  #buf = new Uint8Array(1024);
  length = 0;
  #room(n: number) {
    if (this.length + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.length + n));
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
  }
  append(b: Uint8Array) {
    this.#room(b.length);
    this.#buf.set(b, this.length);
    this.length += b.length;
  }
  text(s: string) {
    if (s.length > 0) this.append(encoder.encode(s));
  }
  align() {
    const r = this.length % BYTES_PER_TOKEN;
    if (r !== 0) this.append(new Uint8Array(BYTES_PER_TOKEN - r));
  }
  get bytes() {
    return this.#buf.subarray(0, this.length);
  }
}

/** Little-endian uint32 pseudo-tokens over `raw`, zero-padded to whole tokens. */
export function packBytes(raw: Uint8Array): Uint32Array {
  const n = Math.ceil(raw.length / BYTES_PER_TOKEN);
  const padded = new Uint8Array(n * BYTES_PER_TOKEN);
  padded.set(raw);
  const view = new DataView(padded.buffer);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getUint32(i * BYTES_PER_TOKEN, true);
  return out;
}

function imageCount(o: ImageEstimate, url: string): number {
  if (o.mode === 'static') return o.staticToken && o.staticToken > 0 ? o.staticToken : 1;
  const dims = imageDimensions(url);
  const w = dims?.width ?? (o.defaultResolution?.width || 640);
  const h = dims?.height ?? (o.defaultResolution?.height || 360);
  const n = Math.floor((w * h) / (o.factor && o.factor > 0 ? o.factor : 1024));
  return n > 0 ? n : 1;
}

function videoCount(o: VideoEstimate, meta: VideoMetadata): number {
  const duration = (meta.duration ?? 0) > 0 ? meta.duration! : (o.defaultDuration ?? 0) > 0 ? o.defaultDuration! : 10;
  let frames: number;
  if (o.framesMode === 'strided') {
    const fps = (meta.fps ?? 0) > 0 ? meta.fps! : (o.defaultSourceFPS ?? 0) > 0 ? o.defaultSourceFPS! : 24;
    frames = Math.trunc(Math.trunc(duration * fps) / Math.max(1, o.frameStride ?? 1));
    if (o.minFrames && frames < o.minFrames) frames = o.minFrames;
    if (o.maxFrames && frames > o.maxFrames) frames = o.maxFrames;
  } else {
    const fps = (o.sampleFPS ?? 0) > 0 ? o.sampleFPS! : 2;
    frames = Math.trunc(duration * fps);
    if (o.minFrames && frames < o.minFrames) frames = o.minFrames;
    if (o.maxFrames && frames > o.maxFrames) frames = o.maxFrames;
    if ((o.temporalPatchSize ?? 0) > 1) frames = Math.trunc(frames / o.temporalPatchSize!);
  }
  let perFrame: number;
  if (o.tokensPerFrameMode === 'static') {
    perFrame = o.numTokensPerFrame && o.numTokensPerFrame > 0 ? o.numTokensPerFrame : 1;
  } else {
    let w = o.defaultResolution?.width ?? 0;
    let h = o.defaultResolution?.height ?? 0;
    if ((meta.width ?? 0) > 0 && (meta.height ?? 0) > 0) [w, h] = [meta.width!, meta.height!];
    if (w <= 0) w = 640;
    if (h <= 0) h = 360;
    perFrame = Math.max(1, Math.floor((w * h) / (o.factor && o.factor > 0 ? o.factor : 1024)));
  }
  let tokens = frames * perFrame;
  if (o.maxVideoTokens && o.maxVideoTokens > 0 && tokens > o.maxVideoTokens) tokens = o.maxVideoTokens;
  return tokens < 1 ? 1 : tokens;
}

/** Aligns, appends `count` copies of uint32(xxh64(content)) and records the feature. */
function appendAsset(out: Bytes, features: MultiModalFeature[], modality: string, content: string, count: number): void {
  out.align();
  const offset = out.length / BYTES_PER_TOKEN;
  const [hi, lo] = xxh64(encoder.encode(content));
  const token = new Uint8Array(BYTES_PER_TOKEN);
  new DataView(token.buffer).setUint32(0, lo >>> 0, true);
  for (let i = 0; i < count; i++) out.append(token);
  const hash = ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(16);
  features.push({ modality, hash, offset, length: count });
}

function chatBytes(json: Readonly<Record<string, unknown>>, o: EstimateOptions, meta: VideoMetadata): PromptTokens {
  const out = new Bytes();
  const features: MultiModalFeature[] = [];
  if (Array.isArray(json.tools) && json.tools.length > 0) out.text(goJsonMarshal(json.tools));
  for (const m of Array.isArray(json.messages) ? json.messages : []) {
    if (!isObject(m)) continue;
    if (typeof m.role === 'string') out.text(m.role);
    if (typeof m.content === 'string') {
      out.text(m.content);
      continue;
    }
    if (!Array.isArray(m.content)) continue;
    for (const block of m.content) {
      if (!isObject(block)) continue;
      switch (block.type) {
        case 'text':
          if (typeof block.text === 'string') out.text(block.text);
          break;
        case 'image_url': {
          const url = isObject(block.image_url) && typeof block.image_url.url === 'string' ? block.image_url.url : '';
          appendAsset(out, features, 'image', url, imageCount(o.image ?? {}, url));
          break;
        }
        case 'video_url': {
          const url = isObject(block.video_url) && typeof block.video_url.url === 'string' ? block.video_url.url : '';
          appendAsset(out, features, 'video', url, videoCount(o.video ?? {}, meta));
          break;
        }
        case 'input_audio':
        case 'audio_url': {
          const a = isObject(block.input_audio) ? block.input_audio : {};
          const data = `${typeof a.data === 'string' ? a.data : ''}${typeof a.format === 'string' ? a.format : ''}`;
          appendAsset(out, features, 'audio', data, Math.max(1, Math.ceil(encoder.encode(data).length / BYTES_PER_TOKEN)));
          break;
        }
      }
    }
  }
  return features.length > 0 ? { tokenIds: packBytes(out.bytes), multiModalFeatures: features } : { tokenIds: packBytes(out.bytes) };
}

/**
 * The pseudo-token prompts of a body; undefined when there is nothing to estimate (passthrough, no body).
 * `exact` is true only when the client sent token ids.
 */
export function estimatePrompts(api: ApiKind, json: Readonly<Record<string, unknown>> | undefined, o: EstimateOptions = {}, meta: VideoMetadata = {}): { prompts: PromptTokens[]; exact: boolean } | undefined {
  if (!json) return undefined;
  switch (api) {
    case 'chat-completions':
      return { prompts: [chatBytes(json, o, meta)], exact: false };
    case 'completions': {
      const p = json.prompt;
      if (isTokenIds(p)) return { prompts: [{ tokenIds: Uint32Array.from(p) }], exact: true };
      if (Array.isArray(p) && p.length > 1 && p.every((s) => typeof s === 'string')) {
        return { prompts: p.map((s: string) => ({ tokenIds: packBytes(encoder.encode(s)) })), exact: false };
      }
      const text = typeof p === 'string' ? p : Array.isArray(p) && typeof p[0] === 'string' ? p[0] : undefined;
      if (text === undefined) return undefined;
      return { prompts: [{ tokenIds: packBytes(encoder.encode(text)) }], exact: false };
    }
    case 'embeddings': {
      if (isTokenIds(json.input)) return { prompts: [{ tokenIds: Uint32Array.from(json.input) }], exact: true };
      return { prompts: [{ tokenIds: packBytes(encoder.encode(goJsonMarshal(json.input))) }], exact: false };
    }
    case 'responses': {
      const parts: Record<string, unknown>[] = [];
      if (json.instructions !== undefined && json.instructions !== null) parts.push({ instructions: json.instructions });
      if (json.tools !== undefined && json.tools !== null) parts.push({ tools: json.tools });
      parts.push({ input: json.input });
      return { prompts: [{ tokenIds: packBytes(encoder.encode(goJsonMarshal(parts))) }], exact: false };
    }
    case 'conversations':
      return { prompts: [{ tokenIds: packBytes(encoder.encode(goJsonMarshal(json.items ?? null))) }], exact: false };
    default:
      return undefined;
  }
}
