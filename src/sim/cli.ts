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
  'kv-events': { kind: 'bool', default: 'false', help: 'Publish KV-cache events as vLLM does (ZMQ PUB, msgpack); also on when any --kv-events-* flag is given. Prompts are then tokenized (bundled Qwen3).' },
  'kv-events-port': { kind: 'int', default: '5557', help: "Each server binds its PUB socket at <its address>:<port> (vLLM's tcp://*:5557); several servers get addresses 127.0.0.1, 127.0.0.2, … (Linux loopback)." },
  'kv-events-endpoint': { kind: 'string', default: '', help: "Connect the PUB sockets to this central subscriber instead (an EPP's kvEventsConfig.zmqEndpoint), e.g. tcp://127.0.0.1:5557." },
  'kv-events-replay-port': { kind: 'int', default: '0', help: "Bind a ROUTER replay socket at <address>:<port> (vLLM's replay_endpoint, llm-d's replaySocketPort); 0 = none." },
  'kv-events-encoding': { kind: 'string', default: 'array', help: 'Event encoding: array (positional, vLLM default) or tagged (maps with "type").', check: (v) => (v === 'array' || v === 'tagged' ? undefined : `want array or tagged, got "${v}"`) },
  'kv-events-hash-format': { kind: 'string', default: 'int', help: 'Block hashes as int (u64) or bytes (32-byte digests).', check: (v) => (v === 'int' || v === 'bytes' ? undefined : `want int or bytes, got "${v}"`) },
} as const satisfies Record<string, FlagSpec>;

await runCli('epp-sim', async () => {
  const { values, given, help, version } = parseGoFlags(process.argv.slice(2), FLAGS);
  if (help) {
    process.stdout.write(flagUsage('epp-sim', FLAGS));
  } else if (version) {
    process.stdout.write(versionLine('epp-sim'));
  } else {
    const adapters = String(values.get('adapters')).split(',').map((a) => a.trim()).filter(Boolean);
    const kvOn = values.get('kv-events') === true || [...given.keys()].some((k) => k.startsWith('kv-events-'));
    const endpoint = String(values.get('kv-events-endpoint'));
    const replayPort = Number(values.get('kv-events-replay-port'));
    const kvEvents = kvOn
      ? {
          ...(endpoint ? { connect: endpoint } : { port: Number(values.get('kv-events-port')) }),
          ...(replayPort > 0 ? { replayPort } : {}),
          encoding: values.get('kv-events-encoding') as 'array' | 'tagged',
          hashFormat: values.get('kv-events-hash-format') as 'int' | 'bytes',
        }
      : undefined;
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
      ...(kvEvents ? { kvEvents } : {}),
    });
    for (const s of pool.servers) process.stdout.write(`${s.name} ${s.url}  (POST /v1/completions, /v1/chat/completions; GET /v1/models, /metrics)\n`);
    for (const s of pool.servers) if (s.kvEvents) process.stdout.write(`${s.name} KV events ${s.kvEvents.endpoint} topic ${s.kvEvents.options.topic}${s.kvEvents.replayEndpoint ? ` replay ${s.kvEvents.replayEndpoint}` : ''}  (POST /reset_prefix_cache, /sim/restart)\n`);
    const stop = () => void pool.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
});
