/**
 * The token-producer's parameters: llm-d's (`modelName`, `vllm`, `estimate`, the deprecated
 * `udsTokenizerConfig`) plus `local`. Decoded strictly, as llm-d decodes them: an unknown key is an
 * error that names it. Backend: `local` whenever `local` is given; otherwise llm-d's rule (`vllm` when
 * `vllm` or `modelName` is set, else `estimate`), with llm-d's conflicts and its `modelName` requirement.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { parseDuration } from '../../config/duration.js';
import type { EstimateOptions } from '../../tokenization/estimate.js';
import { DEFAULT_VLLM_MM_TIMEOUT_MS, DEFAULT_VLLM_TIMEOUT_MS, DEFAULT_VLLM_URL } from '../../tokenization/vllm-render.js';
import { DEFAULT_SEGMENT_CACHE_BYTES } from '../../tokenization/local-tokenizer.js';

const resolution = z.strictObject({ width: z.number().int(), height: z.number().int() });

const imageSchema = z.strictObject({
  mode: z.enum(['dynamic', 'static', '']).optional(),
  defaultResolution: resolution.optional(),
  dynamic: z.strictObject({ factor: z.number().int().optional() }).optional(),
  static: z.strictObject({ staticToken: z.number().int().optional() }).optional(),
});

const videoSchema = z.strictObject({
  defaultResolution: resolution.optional(),
  defaultDuration: z.number().optional(),
  maxVideoTokens: z.number().int().optional(),
  tokensPerFrame: z
    .strictObject({
      mode: z.enum(['dynamic', 'static', '']).optional(),
      static: z.strictObject({ numTokensPerFrame: z.number().int().optional() }).optional(),
      dynamic: z.strictObject({ factor: z.number().int().optional() }).optional(),
    })
    .optional(),
  frames: z
    .strictObject({
      mode: z.enum(['sampled', 'strided', '']).optional(),
      minFrames: z.number().int().optional(),
      maxFrames: z.number().int().optional(),
      sampled: z.strictObject({ sampleFPS: z.number().optional(), temporalPatchSize: z.number().int().optional() }).optional(),
      strided: z.strictObject({ defaultSourceFPS: z.number().optional(), frameStride: z.number().int().optional() }).optional(),
    })
    .optional(),
});

/** The parameters this plugin knows; strict, as llm-d decodes them (an unknown key is an error). */
export const schema = z.strictObject({
  modelName: z.string().optional(),
  vllm: z.strictObject({ url: z.string().optional(), timeout: z.string().optional(), mmTimeout: z.string().optional() }).nullish(),
  estimate: z.strictObject({ image: imageSchema.optional(), video: videoSchema.optional() }).nullish(),
  udsTokenizerConfig: z.strictObject({ socketFile: z.string().optional() }).passthrough().nullish(),
  local: z.strictObject({ path: z.string().min(1, 'local.path must name a folder'), cacheBytes: z.number().int().nonnegative().optional() }).nullish(),
});

export type TokenProducerBackend =
  | { readonly kind: 'estimate'; readonly estimate: EstimateOptions }
  | { readonly kind: 'vllm'; readonly url: string; readonly modelName: string; readonly timeoutMs: number; readonly mmTimeoutMs: number }
  | { readonly kind: 'local'; readonly path: string; readonly cacheBytes: number; readonly modelName: string };

export interface TokenProducerParams {
  readonly backend: TokenProducerBackend;
  /** Parameters that the chosen backend leaves unused, for a warning. */
  readonly ignored: readonly string[];
}

const fail = (path: string, message: string): never => {
  throw new ConfigError(path ? `parameters.${path}` : 'parameters', message);
};

function estimateOptions(e: z.infer<typeof schema>['estimate']): EstimateOptions {
  const img = e?.image;
  const vid = e?.video;
  return {
    ...(img
      ? {
          image: {
            ...(img.mode ? { mode: img.mode } : {}),
            ...(img.defaultResolution ? { defaultResolution: img.defaultResolution } : {}),
            ...(img.dynamic?.factor !== undefined ? { factor: img.dynamic.factor } : {}),
            ...(img.static?.staticToken !== undefined ? { staticToken: img.static.staticToken } : {}),
          },
        }
      : {}),
    ...(vid
      ? {
          video: {
            ...(vid.tokensPerFrame?.mode ? { tokensPerFrameMode: vid.tokensPerFrame.mode } : {}),
            ...(vid.tokensPerFrame?.dynamic?.factor !== undefined ? { factor: vid.tokensPerFrame.dynamic.factor } : {}),
            ...(vid.tokensPerFrame?.static?.numTokensPerFrame !== undefined ? { numTokensPerFrame: vid.tokensPerFrame.static.numTokensPerFrame } : {}),
            ...(vid.frames?.mode ? { framesMode: vid.frames.mode } : {}),
            ...(vid.frames?.minFrames !== undefined ? { minFrames: vid.frames.minFrames } : {}),
            ...(vid.frames?.maxFrames !== undefined ? { maxFrames: vid.frames.maxFrames } : {}),
            ...(vid.frames?.sampled?.sampleFPS !== undefined ? { sampleFPS: vid.frames.sampled.sampleFPS } : {}),
            ...(vid.frames?.sampled?.temporalPatchSize !== undefined ? { temporalPatchSize: vid.frames.sampled.temporalPatchSize } : {}),
            ...(vid.frames?.strided?.defaultSourceFPS !== undefined ? { defaultSourceFPS: vid.frames.strided.defaultSourceFPS } : {}),
            ...(vid.frames?.strided?.frameStride !== undefined ? { frameStride: vid.frames.strided.frameStride } : {}),
            ...(vid.defaultResolution ? { defaultResolution: vid.defaultResolution } : {}),
            ...(vid.defaultDuration !== undefined ? { defaultDuration: vid.defaultDuration } : {}),
            ...(vid.maxVideoTokens !== undefined ? { maxVideoTokens: vid.maxVideoTokens } : {}),
          },
        }
      : {}),
  };
}

export function tokenProducerParams(parameters: unknown): TokenProducerParams {
  const parsed = schema.safeParse(parameters ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const keys = (issue as { keys?: string[] }).keys;
    const where = [...issue.path, ...(keys && keys.length > 0 ? [keys[0]!] : [])].join('.');
    fail(where, issue.code === 'unrecognized_keys' ? `unknown parameter "${keys?.join('", "')}"` : issue.message);
  }
  const p = parsed.data!;
  const modelName = p.modelName ?? '';
  if (p.local) {
    const ignored = [p.vllm ? 'vllm' : '', p.estimate ? 'estimate' : '', p.udsTokenizerConfig ? 'udsTokenizerConfig' : ''].filter(Boolean);
    return { backend: { kind: 'local', path: p.local.path, cacheBytes: p.local.cacheBytes ?? DEFAULT_SEGMENT_CACHE_BYTES, modelName }, ignored };
  }
  const estimate = p.estimate !== undefined && p.estimate !== null;
  const uds = Boolean(p.udsTokenizerConfig?.socketFile);
  const vllm = (p.vllm !== undefined && p.vllm !== null) || modelName !== '';
  if (uds) fail('udsTokenizerConfig', "the UDS tokenizer sidecar (deprecated in llm-d) is not supported; use 'vllm' (a render endpoint) or 'local' (the model's tokenizer files)");
  if (estimate && vllm) fail('', "only one of 'estimate', 'vllm', or 'udsTokenizerConfig' may be set");
  if (vllm && modelName === '') fail('modelName', "'modelName' must be specified");
  if (vllm) {
    const v = p.vllm ?? {};
    return {
      backend: {
        kind: 'vllm',
        url: (v.url ?? '').replace(/\/+$/, '') || DEFAULT_VLLM_URL,
        modelName,
        timeoutMs: v.timeout ? parseDuration(v.timeout, 'parameters.vllm.timeout') : DEFAULT_VLLM_TIMEOUT_MS,
        mmTimeoutMs: v.mmTimeout ? parseDuration(v.mmTimeout, 'parameters.vllm.mmTimeout') : DEFAULT_VLLM_MM_TIMEOUT_MS,
      },
      ignored: [],
    };
  }
  return { backend: { kind: 'estimate', estimate: estimateOptions(p.estimate) }, ignored: [] };
}
