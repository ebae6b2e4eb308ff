/**
 * The engine's /metrics page in vLLM's names (or SGLang's), with the gauges, counters and histograms a real
 * server exposes and about a real page's size, so scraping is exercised as in production.
 */
import type { SimEngine } from './engine.js';

export type Flavor = 'vllm' | 'sglang';

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const LATENCY_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];
const TOKEN_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];

function histogram(lines: string[], name: string, help: string, buckets: number[], values: number[], labels: string): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
  let sum = 0;
  for (const b of buckets) lines.push(`${name}_bucket{${labels},le="${b}"} ${values.filter((v) => v <= b).length}`);
  for (const v of values) sum += v;
  lines.push(`${name}_bucket{${labels},le="+Inf"} ${values.length}`, `${name}_sum{${labels}} ${sum}`, `${name}_count{${labels}} ${values.length}`);
}

function gauge(lines: string[], name: string, help: string, value: number, labels: string): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}{${labels}} ${value}`);
}

function counter(lines: string[], name: string, help: string, value: number, labels: string): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name}{${labels}} ${value}`);
}

export function renderMetrics(engine: SimEngine, flavor: Flavor): string {
  const o = engine.options;
  const s = engine.stats;
  const kvUsage = engine.kv.usedBlocks / o.numGpuBlocks;
  const lines: string[] = [];
  if (flavor === 'sglang') {
    const l = `model_name="${o.model}"`;
    gauge(lines, 'sglang:num_running_reqs', 'The number of running requests.', engine.running, l);
    gauge(lines, 'sglang:num_queue_reqs', 'The number of requests in the waiting queue.', engine.waiting.length, l);
    gauge(lines, 'sglang:token_usage', 'The token usage.', kvUsage, l);
    gauge(lines, 'sglang:cache_config_info', 'Cache geometry.', 1, `page_size="${o.blockTokens}",num_pages="${o.numGpuBlocks}"`);
    counter(lines, 'sglang:prompt_tokens_total', 'Prompt tokens processed.', s.promptTokens, l);
    counter(lines, 'sglang:generation_tokens_total', 'Generation tokens.', s.generationTokens, l);
    histogram(lines, 'sglang:time_to_first_token_seconds', 'Time to first token.', TTFT_BUCKETS, s.ttftMs.map((t) => t / 1000), l);
    return lines.join('\n') + '\n';
  }
  const l = `engine="0",model_name="${o.model}"`;
  gauge(lines, 'vllm:num_requests_running', 'Number of requests in model execution batches.', engine.running, l);
  gauge(lines, 'vllm:num_requests_waiting', 'Number of requests waiting to be processed.', engine.waiting.length, l);
  gauge(lines, 'vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', kvUsage, l);
  const running = [...engine.loadedAdapters].filter(([, n]) => n > 0).map(([a]) => a);
  const waitingAdapters = [...new Set(engine.waiting.map((j) => j.request.adapter).filter((a): a is string => !!a && !running.includes(a)))];
  lines.push(
    '# HELP vllm:lora_requests_info Running stats on lora requests.',
    '# TYPE vllm:lora_requests_info gauge',
    `vllm:lora_requests_info{max_lora="${o.maxLora}",running_lora_adapters="${running.join(",")}",waiting_lora_adapters="${waitingAdapters.join(',')}"} ${Date.now() / 1000}`,
  );
  gauge(lines, 'vllm:cache_config_info', 'Information of the LLMEngine CacheConfig.', 1, `block_size="${o.blockTokens}",cache_dtype="auto",enable_prefix_caching="True",gpu_memory_utilization="0.9",num_cpu_blocks="0",num_gpu_blocks="${o.numGpuBlocks}"`);
  counter(lines, 'vllm:prefix_cache_queries_total', 'Prefix cache queries, in terms of number of queried blocks.', s.prefixQueries, l);
  counter(lines, 'vllm:prefix_cache_hits_total', 'Prefix cache hits, in terms of number of cached blocks.', s.prefixHits, l);
  counter(lines, 'vllm:prompt_tokens_total', 'Number of prefill tokens processed.', s.promptTokens, l);
  counter(lines, 'vllm:generation_tokens_total', 'Number of generation tokens processed.', s.generationTokens, l);
  counter(lines, 'vllm:request_success_total', 'Count of successfully processed requests.', s.success, `${l},finished_reason="length"`);
  counter(lines, 'vllm:num_preemptions_total', 'Cumulative number of preemption from the engine.', 0, l);
  const ttft = s.ttftMs.map((t) => t / 1000);
  histogram(lines, 'vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', TTFT_BUCKETS, ttft, l);
  histogram(lines, 'vllm:e2e_request_latency_seconds', 'Histogram of end to end request latency in seconds.', LATENCY_BUCKETS, ttft, l);
  histogram(lines, 'vllm:request_queue_time_seconds', 'Histogram of time spent in WAITING phase for request.', LATENCY_BUCKETS, [], l);
  histogram(lines, 'vllm:request_prefill_time_seconds', 'Histogram of time spent in PREFILL phase for request.', LATENCY_BUCKETS, ttft, l);
  histogram(lines, 'vllm:request_decode_time_seconds', 'Histogram of time spent in DECODE phase for request.', LATENCY_BUCKETS, [], l);
  histogram(lines, 'vllm:request_inference_time_seconds', 'Histogram of time spent in RUNNING phase for request.', LATENCY_BUCKETS, [], l);
  histogram(lines, 'vllm:time_per_output_token_seconds', 'Histogram of time per output token in seconds.', TPOT_BUCKETS, [], l);
  histogram(lines, 'vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', TPOT_BUCKETS, [], l);
  histogram(lines, 'vllm:request_prompt_tokens', 'Number of prefill tokens processed.', TOKEN_BUCKETS, [], l);
  histogram(lines, 'vllm:request_generation_tokens', 'Number of generation tokens processed.', TOKEN_BUCKETS, [], l);
  histogram(lines, 'vllm:request_max_num_generation_tokens', 'Histogram of maximum number of requested generation tokens.', TOKEN_BUCKETS, [], l);
  histogram(lines, 'vllm:request_params_n', 'Histogram of the n request parameter.', [1, 2, 5, 10, 20], [], l);
  histogram(lines, 'vllm:request_params_max_tokens', 'Histogram of the max_tokens request parameter.', TOKEN_BUCKETS, [], l);
  histogram(lines, 'vllm:iteration_tokens_total', 'Histogram of number of tokens per engine_step.', TOKEN_BUCKETS, [], l);
  // Python process and HTTP server series, as a real server's page carries them.
  for (const [name, help] of [
    ['python_gc_objects_collected_total', 'Objects collected during gc'],
    ['process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.'],
    ['process_resident_memory_bytes', 'Resident memory size in bytes.'],
  ] as const) {
    for (let g = 0; g < 3; g++) counter(lines, name, help, g * 17, `generation="${g}"`);
  }
  for (const handler of ['/v1/completions', '/v1/chat/completions', '/v1/models', '/metrics', '/health']) {
    histogram(lines, 'http_request_duration_seconds', 'Latency with only few buckets by handler.', [0.1, 0.5, 1], [], `handler="${handler}",method="POST"`);
    histogram(lines, 'http_request_duration_highr_seconds', 'Latency with many buckets but no API specific labels.', LATENCY_BUCKETS, [], `handler="${handler}"`);
  }
  return lines.join('\n') + '\n';
}
