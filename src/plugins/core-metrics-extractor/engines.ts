/**
 * Where each engine publishes the figures the scheduler reads (reference/plugins.md, "Data layer"), in the
 * shape of the Go EPP's `core-metrics-extractor` `engineConfigs` entries, so user configs and built-ins are
 * one thing. The engine comes from a pod label (default `inference.networking.k8s.io/engine-type`).
 */
import { ConfigError } from '../../errors.js';
import type { EngineMapping, MetricsMapping } from '../../framework/datalayer.js';
import { parseSelector } from './metric-selector.js';
import { attributeKey } from '../../framework/datalayer.js';
import { DEFAULT_ATTRIBUTE_PRODUCER as METRICS_ATTRIBUTE_PRODUCER } from '../shared/endpoint-attribute.js';

export const ENGINE_LABEL_KEY = 'inference.networking.k8s.io/engine-type';
export const DEFAULT_ENGINE = 'vllm';

/** One `engineConfigs` entry as users write it. Empty specs mean "not published by this engine". */
export interface EngineConfig {
  readonly name: string;
  readonly queuedRequestsSpec?: string;
  readonly runningRequestsSpec?: string;
  readonly kvUsageSpec?: string;
  readonly loraSpec?: string;
  readonly cacheInfoSpec?: string;
  readonly cacheBlockSizeLabelName?: string;
  readonly cacheNumBlocksLabelName?: string;
  readonly cacheBlockSizeSpec?: string;
  readonly cacheNumBlocksSpec?: string;
  /** Series to publish as endpoint attributes of this extractor: `{attributeKey, metricSpec}`. */
  readonly customMetrics?: readonly { readonly attributeKey: string; readonly metricSpec: string }[];
}

export const BUILT_IN_ENGINES: readonly EngineConfig[] = [
  {
    name: 'vllm',
    queuedRequestsSpec: 'vllm:num_requests_waiting',
    runningRequestsSpec: 'vllm:num_requests_running',
    kvUsageSpec: 'vllm:kv_cache_usage_perc',
    loraSpec: 'vllm:lora_requests_info',
    cacheInfoSpec: 'vllm:cache_config_info',
  },
  {
    name: 'sglang',
    queuedRequestsSpec: 'sglang:num_queue_reqs',
    runningRequestsSpec: 'sglang:num_running_reqs',
    kvUsageSpec: 'sglang:token_usage',
    cacheInfoSpec: 'sglang:cache_config_info',
    cacheBlockSizeLabelName: 'page_size',
    cacheNumBlocksLabelName: 'num_pages',
  },
  {
    name: 'trtllm-serve',
    queuedRequestsSpec: 'trtllm_num_requests_waiting',
    runningRequestsSpec: 'trtllm_num_requests_running',
    kvUsageSpec: 'trtllm_kv_cache_utilization',
    cacheBlockSizeSpec: 'trtllm_kv_cache_tokens_per_block',
    cacheNumBlocksSpec: 'trtllm_kv_cache_max_blocks',
  },
  {
    name: 'triton-tensorrt-llm',
    queuedRequestsSpec: 'nv_trt_llm_request_metrics{request_type=waiting}',
    runningRequestsSpec: 'nv_trt_llm_request_metrics{request_type=scheduled}',
    kvUsageSpec: 'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=fraction}',
    cacheBlockSizeSpec: 'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=tokens_per}',
    cacheNumBlocksSpec: 'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=max}',
  },
];

/** Older vLLM publishes KV use under this name; read it when the current one is absent. */
const KV_FALLBACKS: Readonly<Record<string, string>> = { 'vllm:kv_cache_usage_perc': 'vllm:gpu_cache_usage_perc' };

/** Compiles one engine config; `path` locates it in errors (e.g. `parameters.engineConfigs[2]`). */
export function compileEngine(config: EngineConfig, path: string): EngineMapping {
  const sel = (spec: string | undefined, field: string) => (spec ? parseSelector(spec, `${path}.${field}`) : undefined);
  const list = (spec: string | undefined, field: string) => (spec ? [parseSelector(spec, `${path}.${field}`)] : []);
  const kv = list(config.kvUsageSpec, 'kvUsageSpec');
  const fallback = config.kvUsageSpec && KV_FALLBACKS[config.kvUsageSpec];
  if (fallback) kv.push(parseSelector(fallback));
  const cacheInfo = sel(config.cacheInfoSpec, 'cacheInfoSpec');
  const loraInfo = sel(config.loraSpec, 'loraSpec');
  const blockSize = sel(config.cacheBlockSizeSpec, 'cacheBlockSizeSpec');
  const numBlocks = sel(config.cacheNumBlocksSpec, 'cacheNumBlocksSpec');
  const custom = (config.customMetrics ?? []).map((c, i) => {
    if (!c.attributeKey) throw new ConfigError(`${path}.customMetrics[${i}].attributeKey`, 'must not be empty');
    return { key: attributeKey(c.attributeKey, METRICS_ATTRIBUTE_PRODUCER), selector: parseSelector(c.metricSpec, `${path}.customMetrics[${i}].metricSpec`) };
  });
  return {
    waitingQueue: list(config.queuedRequestsSpec, 'queuedRequestsSpec'),
    running: list(config.runningRequestsSpec, 'runningRequestsSpec'),
    kvUsage: kv,
    ...(loraInfo ? { loraInfo } : {}),
    ...(cacheInfo
      ? { cacheInfo: { selector: cacheInfo, blockSizeLabel: config.cacheBlockSizeLabelName || 'block_size', numBlocksLabel: config.cacheNumBlocksLabelName || 'num_gpu_blocks' } }
      : {}),
    ...(blockSize ? { blockSize } : {}),
    ...(numBlocks ? { numBlocks } : {}),
    ...(custom.length ? { custom } : {}),
  };
}

/** User engine configs first (replacing built-ins of the same name), then the remaining built-ins. */
export function compileEngines(user: readonly EngineConfig[] = [], path = 'parameters.engineConfigs'): Map<string, EngineMapping> {
  const out = new Map<string, EngineMapping>();
  user.forEach((config, i) => {
    if (!config.name) throw new ConfigError(`${path}[${i}].name`, 'engine config name cannot be empty');
    if (out.has(config.name)) throw new ConfigError(`${path}[${i}].name`, `engine "${config.name}" is configured twice`);
    out.set(config.name, compileEngine(config, `${path}[${i}]`));
  });
  for (const config of BUILT_IN_ENGINES) if (!out.has(config.name)) out.set(config.name, compileEngine(config, `(built-in ${config.name})`));
  return out;
}

/** The built-in mappings, by engine name. */
export const ENGINES: ReadonlyMap<string, EngineMapping> = compileEngines();

/** The mapping with no user configuration: the built-in engines, vLLM for unlabelled pods. */
export const DEFAULT_METRICS_MAPPING: MetricsMapping = { engines: ENGINES, engineLabelKey: ENGINE_LABEL_KEY, defaultEngine: DEFAULT_ENGINE };
