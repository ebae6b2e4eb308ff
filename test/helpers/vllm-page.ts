/** A vLLM-like /metrics page of realistic size: the mapped gauges amid many histogram series. */
export interface PageSpec {
  waiting?: number;
  running?: number;
  kv?: number;
  model?: string;
  /** Histogram series in all, to reach a real page's size (~47 KB at 16). */
  bulk?: number;
  /** LoRA adapters loaded and waiting, and the slot count (default: sql,chat loaded, 4 slots). */
  lora?: { running: string[]; waiting?: string[]; max: number };
}

export function vllmPage(spec: PageSpec = {}): string {
  const model = spec.model ?? 'meta-llama/Llama-3.1-8B-Instruct';
  const l = `engine="0",model_name="${model}"`;
  const lines: string[] = [];
  const buckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
  for (const h of ['vllm:time_to_first_token_seconds', 'vllm:e2e_request_latency_seconds', 'vllm:request_queue_time_seconds', 'vllm:inter_token_latency_seconds']) {
    lines.push(`# HELP ${h} Histogram.`, `# TYPE ${h} histogram`);
    for (let k = 0; k < (spec.bulk ?? 16) / 4; k++) {
      for (const b of buckets) lines.push(`${h}_bucket{${l},le="${b}",shard="${k}"} ${k * 7 + b}`);
      lines.push(`${h}_bucket{${l},le="+Inf",shard="${k}"} 100`, `${h}_sum{${l},shard="${k}"} 12.5`, `${h}_count{${l},shard="${k}"} 100`);
    }
  }
  lines.push('# HELP vllm:num_requests_running Number of requests in model execution batches.', '# TYPE vllm:num_requests_running gauge');
  lines.push(`vllm:num_requests_running{${l}} ${spec.running ?? 3}`);
  lines.push('# TYPE vllm:num_requests_waiting gauge', `vllm:num_requests_waiting{${l}} ${spec.waiting ?? 1}`);
  lines.push('# TYPE vllm:kv_cache_usage_perc gauge', `vllm:kv_cache_usage_perc{${l}} ${spec.kv ?? 0.25}`);
  const lora = spec.lora ?? { running: ['sql', 'chat'], max: 4 };
  lines.push(`vllm:lora_requests_info{max_lora="${lora.max}",running_lora_adapters="${lora.running.join(',')}",waiting_lora_adapters="${(lora.waiting ?? []).join(',')}"} 1.7e9`);
  lines.push(`vllm:cache_config_info{block_size="16",cache_dtype="auto",num_gpu_blocks="2048",num_cpu_blocks="0"} 1`);
  lines.push(`vllm:prompt_tokens_total{${l}} 123456`, `vllm:generation_tokens_total{${l}} 654321`);
  return lines.join('\n') + '\n';
}
