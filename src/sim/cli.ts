#!/usr/bin/env node
/** `epp-sim`: a pool of simulated vLLM (or SGLang) servers on loopback, until Ctrl-C. */
import { flagUsage, parseGoFlags, type FlagSpec } from '../go-flags.js';
import { runCli } from '../run-cli.js';
import { versionLine } from '../version.js';
import { startSimPool } from './server.js';

const FLAGS = {
  count: { kind: 'int', default: '3', help: 'How many servers.' },
  'base-port': { kind: 'int', default: '0', help: 'First port (the others follow); 0 picks free ports.' },
  model: { kind: 'string', default: 'sim-model', help: 'The base model name.' },
  adapters: { kind: 'string', default: '', help: 'LoRA adapters the servers know, comma-separated.' },
  flavor: { kind: 'string', default: 'vllm', help: 'Metric names: vllm or sglang.', check: (v) => (v === 'vllm' || v === 'sglang' ? undefined : `want vllm or sglang, got "${v}"`) },
  'max-running': { kind: 'int', default: '8', help: 'Running batch limit per server.' },
  'max-lora': { kind: 'int', default: '2', help: 'LoRA adapter slots per server.' },
  'decode-ms-per-token': { kind: 'int', default: '5', help: 'Decode time per output token (ms).' },
  'prefill-tokens-per-second': { kind: 'int', default: '20000', help: 'Prefill speed for uncached prompt tokens.' },
  'num-gpu-blocks': { kind: 'int', default: '2048', help: 'KV cache size per server, in blocks (vLLM --num-gpu-blocks-override).' },
  'block-size': { kind: 'int', default: '16', help: 'Tokens per KV block (vLLM --block-size).' },
  'max-model-len': { kind: 'int', default: '0', help: 'Longest prompt + output in tokens; longer requests get 400 (vLLM --max-model-len); 0 = the whole KV cache.' },
} as const satisfies Record<string, FlagSpec>;

await runCli('epp-sim', async () => {
  const { values, help, version } = parseGoFlags(process.argv.slice(2), FLAGS);
  if (help) {
    process.stdout.write(flagUsage('epp-sim', FLAGS));
  } else if (version) {
    process.stdout.write(versionLine('epp-sim'));
  } else {
    const adapters = String(values.get('adapters')).split(',').map((a) => a.trim()).filter(Boolean);
    const pool = await startSimPool(Number(values.get('count')), {
      basePort: Number(values.get('base-port')),
      model: String(values.get('model')),
      adapters,
      flavor: values.get('flavor') as 'vllm' | 'sglang',
      maxRunning: Number(values.get('max-running')),
      maxLora: Number(values.get('max-lora')),
      decodeMsPerToken: Number(values.get('decode-ms-per-token')),
      prefillTokensPerSecond: Number(values.get('prefill-tokens-per-second')),
      numGpuBlocks: Number(values.get('num-gpu-blocks')),
      blockTokens: Number(values.get('block-size')),
      maxModelLen: Number(values.get('max-model-len')),
    });
    for (const s of pool.servers) process.stdout.write(`${s.name} ${s.url}  (POST /v1/completions, /v1/chat/completions; GET /v1/models, /metrics)\n`);
    const stop = () => void pool.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
});
