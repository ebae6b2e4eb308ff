/**
 * Where each engine publishes the figures the scheduler reads (reference/plugins.md, "Data layer").
 * The engine comes from the pod label `inference.networking.k8s.io/engine-type`, default `vllm`.
 */
import { parseSelector, type MetricSelector } from './metric-selector.js';

export const ENGINE_LABEL_KEY = 'inference.networking.k8s.io/engine-type';
export const DEFAULT_ENGINE = 'vllm';

export interface EngineMapping {
  readonly waitingQueue: readonly MetricSelector[];
  readonly running: readonly MetricSelector[];
  /** KV use as a 0..1 fraction; later entries are fallbacks (older vLLM). */
  readonly kvUsage: readonly MetricSelector[];
  /** A series whose labels list LoRA adapters (vLLM only). */
  readonly loraInfo?: MetricSelector;
  /** A series whose labels carry the cache geometry… */
  readonly cacheInfo?: { readonly selector: MetricSelector; readonly blockSizeLabel: string; readonly numBlocksLabel: string };
  /** …or separate gauges holding it. */
  readonly blockSize?: MetricSelector;
  readonly numBlocks?: MetricSelector;
}

const s = parseSelector;

export const ENGINES: Readonly<Record<string, EngineMapping>> = {
  vllm: {
    waitingQueue: [s('vllm:num_requests_waiting')],
    running: [s('vllm:num_requests_running')],
    kvUsage: [s('vllm:kv_cache_usage_perc'), s('vllm:gpu_cache_usage_perc')],
    loraInfo: s('vllm:lora_requests_info'),
    cacheInfo: { selector: s('vllm:cache_config_info'), blockSizeLabel: 'block_size', numBlocksLabel: 'num_gpu_blocks' },
  },
  sglang: {
    waitingQueue: [s('sglang:num_queue_reqs')],
    running: [s('sglang:num_running_reqs')],
    kvUsage: [s('sglang:token_usage')],
    cacheInfo: { selector: s('sglang:cache_config_info'), blockSizeLabel: 'page_size', numBlocksLabel: 'num_pages' },
  },
  'trtllm-serve': {
    waitingQueue: [s('trtllm_num_requests_waiting')],
    running: [s('trtllm_num_requests_running')],
    kvUsage: [s('trtllm_kv_cache_utilization')],
    blockSize: s('trtllm_kv_cache_tokens_per_block'),
    numBlocks: s('trtllm_kv_cache_max_blocks'),
  },
  'triton-tensorrt-llm': {
    waitingQueue: [s('nv_trt_llm_request_metrics{request_type="waiting"}')],
    running: [s('nv_trt_llm_request_metrics{request_type="scheduled"}')],
    kvUsage: [s('nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="fraction"}')],
    blockSize: s('nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="tokens_per"}'),
    numBlocks: s('nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="max"}'),
  },
};
