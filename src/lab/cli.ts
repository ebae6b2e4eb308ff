#!/usr/bin/env node
/**
 * `npm run lab -- --config a.yaml --config b.yaml [--workload shared-prefix] [--rate 20] [--seconds 20]
 * [--pods 4] [--gpu-blocks 2048] [--seed 1] [--out lab-report]`: runs the workload against each config
 * (the real EPP over a fresh simulated pool each time) and against round-robin, and writes a text table
 * and an HTML report with the TTFT and latency distributions.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { WORKLOAD_KINDS, workload, type WorkloadKind } from './workload.js';
import { DEFAULT_POOL, runArm, type Arm } from './runner.js';
import { htmlReport, summarize, textReport } from './report.js';

const USAGE = `usage: npm run lab -- --config <file> [--config <file> ...] [options]
  --workload <kind>     ${WORKLOAD_KINDS.join(' | ')} (default shared-prefix)
  --rate <n>            requests per second (default 20)
  --seconds <n>         how long the load runs (default 20)
  --pods <n>            simulated pods (default ${DEFAULT_POOL.pods})
  --gpu-blocks <n>      KV cache per pod, 16-token blocks (default ${DEFAULT_POOL.gpuBlocks})
  --groups <n>          shared-prefix: distinct system prompts (default 16)
  --prefix-tokens <n>   shared-prefix: system prompt length (default 3000)
  --seed <n>            the same seed sends the same requests at the same times (default 1)
  --out <dir>           where report.txt and report.html go (default lab-report)
  --no-round-robin      skip the round-robin baseline
`;

function positive(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', multiple: true, default: [] },
      workload: { type: 'string', default: 'shared-prefix' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      pods: { type: 'string' },
      'gpu-blocks': { type: 'string' },
      groups: { type: 'string' },
      'prefix-tokens': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string', default: 'lab-report' },
      'no-round-robin': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void process.stdout.write(USAGE);
  if (!WORKLOAD_KINDS.includes(values.workload as WorkloadKind)) throw new Error(`--workload must be one of ${WORKLOAD_KINDS.join(', ')}, got ${JSON.stringify(values.workload)}`);
  if (values.config.length === 0 && values['no-round-robin']) throw new Error('nothing to run: give --config, or keep the round-robin baseline');
  const options = {
    kind: values.workload as WorkloadKind,
    rate: positive('rate', values.rate, 20),
    seconds: positive('seconds', values.seconds, 20),
    seed: positive('seed', values.seed, 1),
    groups: positive('groups', values.groups, 16),
    prefixTokens: positive('prefix-tokens', values['prefix-tokens'], 3000),
  };
  const pool = { ...DEFAULT_POOL, pods: positive('pods', values.pods, DEFAULT_POOL.pods), gpuBlocks: positive('gpu-blocks', values['gpu-blocks'], DEFAULT_POOL.gpuBlocks) };
  const load = workload(options);
  const arms: Arm[] = [...(values['no-round-robin'] ? [] : [{ name: 'round-robin', roundRobin: true } as const]), ...values.config.map((c) => ({ name: c, configFile: resolve(c) }))];
  const summaries = [];
  for (const arm of arms) {
    process.stderr.write(`running ${arm.name} (${load.length} requests over ${options.seconds} s)…\n`);
    summaries.push(summarize(await runArm(arm, load, pool)));
  }
  const title = `Routing lab: ${options.kind}, ${options.rate} req/s for ${options.seconds} s, ${pool.pods} pods × ${pool.gpuBlocks} KV blocks, seed ${options.seed}`;
  const text = textReport(title, summaries);
  mkdirSync(values.out, { recursive: true });
  writeFileSync(resolve(values.out, 'report.txt'), text);
  writeFileSync(resolve(values.out, 'report.html'), htmlReport(title, summaries, text));
  process.stdout.write(text + `\nreport: ${resolve(values.out, 'report.html')}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  },
);
