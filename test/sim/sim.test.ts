import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimPool, startSimServer } from '../../src/sim/server.js';
import { SimEngine } from '../../src/sim/engine.js';
import { renderMetrics } from '../../src/sim/metrics-page.js';
import { MetricsExtractor } from '../../src/datalayer/extract.js';
import { ENGINES } from '../../src/plugins/core-metrics-extractor/engines.js';
import { until } from '../helpers/until.js';

const scrape = (engine: SimEngine, flavor: 'vllm' | 'sglang' = 'vllm') => new MetricsExtractor(ENGINES.get(flavor)!).extract(renderMetrics(engine, flavor));
const bytes = (s: string) => new TextEncoder().encode(s);


test('a repeated long prompt gets a lower TTFT on the server that served it, and the hit is counted', async () => {
  const pool = await startSimPool(2, { prefillTokensPerSecond: 5_000 });
  try {
    const prompt = 'Summarise the attached contract in plain words. '.repeat(300);
    const ask = async (url: string) => {
      const r = await fetch(`${url}/v1/completions`, { method: 'POST', body: JSON.stringify({ model: 'sim-model', prompt, max_tokens: 2 }) });
      return ((await r.json()) as { usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } } }).usage;
    };
    const [a, b] = pool.servers;
    const first = await ask(a!.url);
    const again = await ask(a!.url);
    const elsewhere = await ask(b!.url);
    assert.equal(first.prompt_tokens_details.cached_tokens, 0);
    assert.ok(again.prompt_tokens_details.cached_tokens > first.prompt_tokens * 0.95, JSON.stringify(again));
    assert.equal(elsewhere.prompt_tokens_details.cached_tokens, 0, 'the other server never saw it');
    const [ttftFirst, ttftAgain] = a!.engine.stats.ttftMs;
    assert.ok(ttftAgain! < ttftFirst! / 5, `${ttftAgain} vs ${ttftFirst}`);
    const page = await (await fetch(`${a!.url}/metrics`)).text();
    assert.match(page, /^vllm:prefix_cache_hits_total\{engine="0",model_name="sim-model"\} [1-9]\d*$/m);
  } finally {
    await pool.close();
  }
});

test('under overload the waiting queue grows and KV use moves with load', async () => {
  const engine = new SimEngine({ maxRunning: 2, decodeMsPerToken: 2, numGpuBlocks: 100 });
  const done = Array.from({ length: 6 }, (_, i) => engine.submit({ prompt: bytes(`request ${i} `.repeat(40)), maxTokens: 30 }));
  const busy = scrape(engine);
  assert.equal(busy.runningRequestsSize, 2);
  assert.equal(busy.waitingQueueSize, 4);
  assert.ok(busy.kvCacheUsage! > 0, String(busy.kvCacheUsage));
  await Promise.all(done);
  const idle = scrape(engine);
  assert.deepEqual([idle.runningRequestsSize, idle.waitingQueueSize, idle.kvCacheUsage], [0, 0, 0]);
  assert.equal(engine.pendingTimers, 0);
});

test('LoRA: a request for an unloaded adapter waits in waiting_lora_adapters, then runs once a slot frees', async () => {
  const engine = new SimEngine({ adapters: ['sql', 'chat'], maxLora: 1, loraLoadMs: 5, decodeMsPerToken: 2 });
  const sql = engine.submit({ prompt: bytes('select'), maxTokens: 25, adapter: 'sql' });
  await until(() => engine.running === 1, 'sql to run');
  assert.deepEqual([...scrape(engine).activeModels!], ['sql']);
  const chat = engine.submit({ prompt: bytes('hello'), maxTokens: 3, adapter: 'chat' });
  const waiting = scrape(engine);
  assert.deepEqual([...waiting.waitingModels!], ['chat']);
  assert.equal(waiting.maxActiveModels, 1);
  await sql;
  await until(() => engine.loadedAdapters.has('chat'), 'chat to load');
  await chat;
  assert.ok(!engine.loadedAdapters.has('sql'), 'the idle adapter was unloaded to make room');
});

test('streaming with include_usage ends with usage then [DONE]; bad requests get OpenAI-style errors', async () => {
  const server = await startSimServer({ adapters: ['sql'] });
  try {
    const post = (path: string, body: string) => fetch(`${server.url}${path}`, { method: 'POST', body });
    const sse = await (await post('/v1/chat/completions', JSON.stringify({ model: 'sql', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, stream: true, stream_options: { include_usage: true } }))).text();
    const events = sse.trim().split('\n\n').map((e) => e.replace(/^data: /, ''));
    assert.equal(events.length, 5, sse);
    assert.equal(events.at(-1), '[DONE]');
    assert.deepEqual(JSON.parse(events.at(-2)!).usage.completion_tokens, 3);
    assert.equal(JSON.parse(events[0]!).choices[0].delta.content, 'tok0 ');
    const cases: [string, string, number, RegExp][] = [
      ['/v1/completions', '{not json', 400, /not a JSON object/],
      ['/v1/completions', '{"prompt":"x"}', 400, /model is required/],
      ['/v1/completions', '{"model":"nope","prompt":"x"}', 404, /does not exist/],
      ['/v1/chat/completions', '{"model":"sim-model","messages":"hi"}', 400, /messages must be a list/],
      ['/v1/completions', '{"model":"sim-model","prompt":"x","max_tokens":0}', 400, /max_tokens/],
    ];
    for (const [path, body, status, message] of cases) {
      const r = await post(path, body);
      assert.equal(r.status, status, body);
      assert.match(((await r.json()) as { message: string }).message, message);
    }
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] };
    assert.deepEqual(models.data.map((m) => m.id), ['sim-model', 'sql']);
  } finally {
    await server.close();
  }
});

test('the metrics page is real-sized Prometheus text, in vLLM and SGLang names', () => {
  const engine = new SimEngine();
  const page = renderMetrics(engine, 'vllm');
  assert.ok(page.length >= 30 * 1024, `${page.length} bytes`);
  for (const line of page.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? \S+$/, line);
  }
  assert.deepEqual(scrape(engine).problems, []);
  const sg = scrape(engine, 'sglang');
  assert.deepEqual([sg.problems, sg.cacheBlockSize, sg.cacheNumBlocks], [[], 16, 2048]);
});

test('close fails queued work, clears every timer and stops listening', async () => {
  const server = await startSimServer({ maxRunning: 1, decodeMsPerToken: 50 });
  const running = server.engine.submit({ prompt: bytes('y'), maxTokens: 100 });
  const queued = server.engine.submit({ prompt: bytes('z'), maxTokens: 1 });
  const inFlight = fetch(`${server.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ model: 'sim-model', prompt: 'x', max_tokens: 100 }) }).catch((e: Error) => e);
  await until(() => server.engine.waiting.length === 2, 'the HTTP request to queue');
  await server.close();
  await assert.rejects(running, /engine closed/);
  await assert.rejects(queued, /engine closed/);
  assert.ok((await inFlight) instanceof Error, 'the running request is cut off');
  assert.equal(server.engine.pendingTimers, 0);
  await assert.rejects(fetch(`${server.url}/metrics`));
});

test('a prompt over the model length gets vLLM\'s 400 and the server keeps serving; a client that leaves takes its request out of the queue', async () => {
  const server = await startSimServer({ numGpuBlocks: 64, blockTokens: 16, maxRunning: 1, decodeMsPerToken: 20 });
  try {
    assert.equal(server.engine.options.maxModelLen, 1024, 'the model length defaults to the whole KV cache');
    const post = (body: object, signal?: AbortSignal) => fetch(`${server.url}/v1/completions`, { method: 'POST', body: JSON.stringify(body), ...(signal ? { signal } : {}) });
    const long = await post({ model: 'sim-model', prompt: 'x'.repeat(8000), max_tokens: 16 });
    assert.equal(long.status, 400);
    const error = (await long.json()) as { message: string; type: string; code: number };
    assert.equal(error.type, 'BadRequestError');
    assert.match(error.message, /^This model's maximum context length is 1024 tokens\. However, you requested 2016 tokens \(2000 in the messages, 16 in the completion\)/);
    const streamed = await post({ model: 'sim-model', prompt: 'x'.repeat(8000), max_tokens: 16, stream: true });
    assert.equal(streamed.status, 400, 'refused before any stream starts');
    await streamed.text();

    // One request runs (maxRunning 1) for a while; a second waits, then its client leaves.
    const busy = post({ model: 'sim-model', prompt: 'hello', max_tokens: 40 });
    await until(() => server.engine.running === 1, 'the first request running');
    const leaving = new AbortController();
    const waiting = post({ model: 'sim-model', prompt: 'hi', max_tokens: 1 }, leaving.signal).catch((e: Error) => e);
    await until(() => server.engine.waiting.length === 1, 'the second request queued');
    leaving.abort();
    assert.ok((await waiting) instanceof Error);
    await until(() => server.engine.waiting.length === 0, 'the cancelled request to leave the queue');
    // A running request whose client leaves frees its slot and its blocks.
    const running = new AbortController();
    const busyAgain = post({ model: 'sim-model', prompt: 'again', max_tokens: 1000 }, running.signal).catch((e: Error) => e);
    assert.equal((await busy).status, 200);
    await until(() => server.engine.running === 1, 'the long request running');
    running.abort();
    await busyAgain;
    await until(() => server.engine.running === 0 && server.engine.kv.usedBlocks === 0, 'its slot and blocks freed');
    const after = await post({ model: 'sim-model', prompt: 'still there?', max_tokens: 2 });
    assert.equal(after.status, 200);
  } finally {
    await server.close();
  }
});
