/**
 * token-producer: parameters (llm-d's, strictly decoded, plus `local`) and the backend rule; `estimate`
 * byte packing against hand-computed ids; `local` against `vllm` talking to the simulator's render
 * endpoints (the same tokenizer behind both, so the ids must be equal); failures leave no tokens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiKind, InferenceRequest } from '../../src/framework/request.js';
import { registration, legacyRegistration, TokenProducer } from '../../src/plugins/token-producer/index.js';
import { tokenProducerParams } from '../../src/plugins/token-producer/params.js';
import { bundledQwen3Dir } from '../../src/tokenization/model-files.js';
import { startSimServer } from '../../src/sim/server.js';
import { ConfigError } from '../../src/errors.js';
import { testHandle } from '../helpers/fixtures.js';
import { realChunks } from '../helpers/real-text.js';

const qwen = bundledQwen3Dir();

function request(api: ApiKind, json: Record<string, unknown>, headers: Record<string, string> = {}): InferenceRequest {
  return {
    requestId: 'r',
    incomingModel: String(json.model ?? ''),
    targetModel: String(json.model ?? ''),
    priority: 0,
    objective: '',
    headers,
    body: { api, json, prefixText: new Uint8Array(0), cacheSalt: typeof json.cache_salt === 'string' ? json.cache_salt : '', stream: false },
    promptTokens: 1,
  };
}

const paramCases: { name: string; params: unknown; want?: Record<string, unknown>; error?: RegExp }[] = [
  { name: 'no parameters → estimate (llm-d default)', params: undefined, want: { kind: 'estimate' } },
  { name: 'modelName alone → vllm with defaults', params: { modelName: 'm' }, want: { kind: 'vllm', url: 'http://localhost:8000', timeoutMs: 5000, mmTimeoutMs: 30000 } },
  { name: 'vllm url (trailing slash trimmed) and Go durations', params: { modelName: 'm', vllm: { url: 'http://r:9/', timeout: '250ms', mmTimeout: '1m' } }, want: { kind: 'vllm', url: 'http://r:9', timeoutMs: 250, mmTimeoutMs: 60000 } },
  { name: 'vllm without modelName', params: { vllm: {} }, error: /parameters\.modelName: 'modelName' must be specified/ },
  { name: 'estimate and vllm together', params: { modelName: 'm', estimate: {} }, error: /only one of 'estimate', 'vllm', or 'udsTokenizerConfig'/ },
  { name: 'unknown key is an error naming it', params: { modelName: 'm', vlm: {} }, error: /parameters\.vlm: unknown parameter "vlm"/ },
  { name: 'unknown nested key', params: { modelName: 'm', vllm: { uri: 'x' } }, error: /parameters\.vllm\.uri/ },
  { name: 'bad duration', params: { modelName: 'm', vllm: { timeout: 'soon' } }, error: /parameters\.vllm\.timeout: invalid duration "soon"/ },
  { name: 'bad image mode', params: { estimate: { image: { mode: 'fancy' } } }, error: /parameters\.estimate\.image\.mode/ },
  { name: 'UDS sidecar is refused with the way out', params: { modelName: 'm', udsTokenizerConfig: { socketFile: '/tmp/t.sock' } }, error: /not supported; use 'vllm'/ },
  { name: 'local wins over modelName and vllm', params: { local: { path: qwen }, modelName: 'm', vllm: { url: 'http://x' } }, want: { kind: 'local', path: qwen, modelName: 'm' } },
  { name: 'local.path empty', params: { local: { path: '' } }, error: /parameters\.local\.path/ },
];

for (const c of paramCases) {
  test(`params: ${c.name}`, () => {
    if (c.error) {
      assert.throws(() => tokenProducerParams(c.params), (e: unknown) => e instanceof ConfigError && c.error!.test(e.message));
      return;
    }
    const { backend } = tokenProducerParams(c.params);
    for (const [k, v] of Object.entries(c.want!)) assert.deepEqual((backend as unknown as Record<string, unknown>)[k], v, k);
  });
}

test('factory: legacy alias warns; local with ignored parameters warns; a missing tokenizer.json names the parameter', () => {
  const h = testHandle();
  legacyRegistration.factory('t', undefined, h);
  assert.match(h.warnings[0]!, /"tokenizer" is deprecated; use "token-producer"/);
  const h2 = testHandle();
  const p = registration.factory('t', { local: { path: qwen }, vllm: { url: 'http://x' }, modelName: 'm' }, h2) as TokenProducer;
  assert.equal(p.backend.kind, 'local');
  assert.match(h2.warnings[0]!, /'vllm' is ignored/);
  assert.throws(
    () => registration.factory('t', { local: { path: '/nonexistent/model' } }, testHandle()),
    (e: unknown) => e instanceof ConfigError && /parameters\.local\.path: .*tokenizer\.json not found/.test(e.message),
  );
});

const le = (s: string) => {
  const b = Buffer.alloc(Math.ceil(s.length / 4) * 4);
  b.write(s, 'latin1');
  return Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(i * 4));
};

/** A 64×32 PNG header, base64: dimensions are all the estimate reads. */
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), Buffer.from('IHDR'), Buffer.from([0, 0, 0, 64, 0, 0, 0, 32, 8, 6, 0, 0, 0])]).toString('base64');

const estimateCases: { name: string; api: ApiKind; json: Record<string, unknown>; want: number[][]; exact?: boolean; features?: unknown }[] = [
  { name: 'completions: bytes packed little-endian', api: 'completions', json: { prompt: 'abcd' }, want: [le('abcd')] },
  { name: 'completions: zero-padded tail', api: 'completions', json: { prompt: 'abcde' }, want: [le('abcde')] },
  { name: 'completions: one prompt per string', api: 'completions', json: { prompt: ['ab', 'cdefg'] }, want: [le('ab'), le('cdefg')] },
  { name: 'completions: token ids pass through, exact', api: 'completions', json: { prompt: [5, 6, 7] }, want: [[5, 6, 7]], exact: true },
  { name: 'chat: role then content, no separators', api: 'chat-completions', json: { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: [{ type: 'text', text: 'yo' }] }] }, want: [le('userhiassistantyo')] },
  {
    name: 'chat: tools first, as Go marshals them (sorted keys, HTML escaped)',
    api: 'chat-completions',
    json: { tools: [{ type: 'function', function: { name: 'a<b' } }], messages: [{ role: 'user', content: 'x' }] },
    want: [le('[{"function":{"name":"a\\u003cb"},"type":"function"}]userx')],
  },
  { name: 'conversations: JSON of items', api: 'conversations', json: { items: [{ b: 1, a: 'é' }] }, want: [Array.from(new Uint32Array(new Uint8Array([...Buffer.from('[{"a":"é","b":1}]'), 0, 0, 0].slice(0, 20)).buffer))] },
  { name: 'responses: instructions, then input', api: 'responses', json: { instructions: 'be brief', input: 'q' }, want: [le('[{"instructions":"be brief"},{"input":"q"}]')] },
  { name: 'embeddings: JSON of input', api: 'embeddings', json: { input: 'hey' }, want: [le('"hey"')] },
  {
    name: 'chat: an image is a run of its hash, aligned, sized from its header (64×32/1024 = 2)',
    api: 'chat-completions',
    json: { messages: [{ role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] }] },
    want: [],
    features: [{ modality: 'image', offset: 2, length: 2 }],
  },
];

for (const c of estimateCases) {
  test(`estimate: ${c.name}`, () => {
    const p = registration.factory('t', undefined, testHandle()) as TokenProducer;
    const r = request(c.api, { model: 'm', ...c.json });
    assert.equal(p.produce(r, []), undefined, 'estimate is synchronous');
    const t = r.tokenizedPrompt!;
    assert.equal(t.exact, c.exact ?? false);
    if (c.features) {
      const f = t.prompts[0]!.multiModalFeatures!.map(({ modality, offset, length }) => ({ modality, offset, length }));
      assert.deepEqual(f, c.features);
      const ids = t.prompts[0]!.tokenIds;
      assert.equal(ids[2], ids[3], 'the placeholder repeats one id');
      return;
    }
    assert.deepEqual(t.prompts.map((x) => [...x.tokenIds]), c.want);
  });
}

test('estimate: a request tokenized earlier is left alone; passthrough and header-only bodies get nothing', () => {
  const p = registration.factory('t', undefined, testHandle()) as TokenProducer;
  const r = request('completions', { model: 'm', prompt: 'abcd' });
  const earlier = { prompts: [{ tokenIds: new Uint32Array([9]) }], cacheSalt: '', exact: true };
  r.tokenizedPrompt = earlier;
  p.produce(r, []);
  assert.equal(r.tokenizedPrompt, earlier);
  const pass = { ...request('completions', {}), body: { api: 'passthrough' as const, prefixText: new Uint8Array(0), cacheSalt: '', stream: false } };
  p.produce(pass, []);
  assert.equal(pass.tokenizedPrompt, undefined);
});

test('local and vllm (against the simulator render endpoints) give the same ids for chat and completions', async () => {
  const sim = await startSimServer({ model: 'qwen3' });
  try {
    const h = testHandle();
    const local = registration.factory('local', { local: { path: qwen } }, h) as TokenProducer;
    // A generous timeout: the simulator loads its tokenizer on the first render, on a machine running other tests.
    const vllm = registration.factory('vllm', { modelName: 'qwen3', vllm: { url: sim.url, timeout: '120s' } }, h) as TokenProducer;
    const [a, b, c] = realChunks(3, 4000);
    const bodies: [ApiKind, Record<string, unknown>][] = [
      ['chat-completions', { model: 'client-name', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: a }, { role: 'assistant', content: b }, { role: 'user', content: c }] }],
      ['chat-completions', { model: 'x', messages: [{ role: 'user', content: [{ type: 'text', text: a }, { type: 'text', text: 'and' }] }], chat_template_kwargs: { enable_thinking: false } }],
      ['completions', { model: 'x', prompt: a }],
      ['completions', { model: 'x', prompt: [b, c] }],
      ['completions', { model: 'x', prompt: [1, 2, 3] }],
    ];
    for (const [api, json] of bodies) {
      const rl = request(api, json);
      const rv = request(api, json);
      await local.produce(rl, []);
      await vllm.produce(rv, []);
      assert.ok(rl.tokenizedPrompt && rv.tokenizedPrompt, `${api}: both tokenized (${h.warnings.join('; ')})`);
      assert.deepEqual(rl.tokenizedPrompt.prompts.map((p) => [...p.tokenIds]), rv.tokenizedPrompt.prompts.map((p) => [...p.tokenIds]), api);
      assert.ok(rl.tokenizedPrompt.exact && rv.tokenizedPrompt.exact);
      assert.ok(rl.tokenizedPrompt.prompts[0]!.tokenIds.length > 0);
    }
    assert.equal(h.warnings.length, 0, h.warnings.join('\n'));
    assert.equal(vllm.stats.tokenized, bodies.length);
  } finally {
    await sim.close();
  }
});

test('vllm: an unknown model (404), a dead endpoint and a timeout leave the request without tokens, one warning', async () => {
  const sim = await startSimServer({ model: 'qwen3' });
  const { port } = sim;
  try {
    const h = testHandle();
    const wrongModel = registration.factory('v', { modelName: 'nope', vllm: { url: sim.url } }, h) as TokenProducer;
    const r = request('completions', { model: 'x', prompt: 'hello' });
    await wrongModel.produce(r, []);
    assert.equal(r.tokenizedPrompt, undefined);
    assert.match(h.warnings[0]!, /status 404/);
    await wrongModel.produce(request('completions', { model: 'x', prompt: 'again' }), []);
    assert.equal(h.warnings.length, 1, 'warnings are rate-limited');
    assert.equal(wrongModel.stats.failures, 2);
  } finally {
    await sim.close();
  }
  const h = testHandle();
  const dead = registration.factory('v', { modelName: 'qwen3', vllm: { url: `http://127.0.0.1:${port}`, timeout: '300ms' } }, h) as TokenProducer;
  const r = request('chat-completions', { model: 'x', messages: [{ role: 'user', content: 'hi' }] });
  await dead.produce(r, []);
  assert.equal(r.tokenizedPrompt, undefined);
  assert.equal(dead.stats.failures, 1);
  assert.match(h.warnings[0]!, /tokenization failed/);
});

test('local: cache salt is carried; responses (no render in vLLM) get no tokens', async () => {
  const p = registration.factory('t', { local: { path: qwen } }, testHandle()) as TokenProducer;
  const r = request('chat-completions', { model: 'm', cache_salt: 's1', messages: [{ role: 'user', content: 'hello' }] });
  await p.produce(r, []);
  assert.equal(r.tokenizedPrompt!.cacheSalt, 's1');
  assert.deepEqual([...r.tokenizedPrompt!.prompts[0]!.tokenIds].slice(0, 1), [151644]);
  const resp = request('responses', { model: 'm', input: 'hi' });
  await p.produce(resp, []);
  assert.equal(resp.tokenizedPrompt, undefined);
});

test('in a pick cycle: the token producer runs first, the prefix producer hashes real token blocks, the reservation counts real tokens', async () => {
  const { Registry } = await import('../../src/framework/registry.js');
  const { registerInTreePlugins } = await import('../../src/plugins/index.js');
  const { loadConfig } = await import('../../src/config/loader.js');
  const { ProfileScheduler } = await import('../../src/scheduling/scheduler.js');
  const { PickCycle } = await import('../../src/director/pick-cycle.js');
  const { LoadTracker } = await import('../../src/director/load-tracker.js');
  const { makeEndpoint, testServices } = await import('../helpers/fixtures.js');
  const { PREFIX_CACHE_MATCH_KEY } = await import('../../src/plugins/approx-prefix-cache-producer/index.js');
  const configText = `
plugins:
- type: prefix-cache-scorer
- type: token-producer
  parameters:
    local:
      path: ${JSON.stringify(qwen)}
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: prefix-cache-scorer
`;
  const config = loadConfig({ configText }, registerInTreePlugins(new Registry()), testServices(), { warn: () => {} });
  assert.deepEqual(config.producers.map((p) => p.type), ['token-producer', 'approx-prefix-cache-producer']);
  const tracker = new LoadTracker();
  const seen: unknown[] = [];
  const cycle = new PickCycle({ producers: config.producers, scheduler: new ProfileScheduler(config.scheduler), preRequests: [{ type: 'spy', name: 'spy', preRequest: (_r, _res, cs) => void seen.push(cs.read(PREFIX_CACHE_MATCH_KEY)) }], loadTracker: tracker });
  const pods = [makeEndpoint({ name: 'a', blockSize: 16 }, tracker), makeEndpoint({ name: 'b', blockSize: 16 }, tracker)];
  const text = realChunks(1, 8000)[0]!;
  const r = request('completions', { model: 'm', prompt: text });
  const outcome = cycle.run(r, pods);
  assert.ok(outcome instanceof Promise, 'an asynchronous producer makes the cycle asynchronous');
  const { reservation } = await outcome;
  const tokens = r.tokenizedPrompt!.prompts[0]!.tokenIds.length;
  assert.ok(tokens > 1000 && tokens < text.length / 2, `${tokens} tokens for ${text.length} chars`);
  assert.equal(reservation!.tokens, tokens, 'in-flight tokens are real tokens');
  const info = seen[0] as { totalBlocks: number };
  assert.equal(info.totalBlocks, Math.min(256, Math.ceil(tokens / 16)), 'blocks of 16 real tokens (the last one partial)');
});

test('local on the worker pool: the tokenizer loads on the thread at start, segments are encoded there, ids equal inline', async () => {
  const { WorkerPool } = await import('../../src/pool/worker-pool.js');
  const { testServices } = await import('../helpers/fixtures.js');
  const pool = new WorkerPool();
  try {
    const handle = { ...testHandle(), services: { ...testServices(), workerTasks: pool } };
    const pooled = registration.factory('t', { local: { path: qwen } }, handle) as TokenProducer;
    assert.equal(pooled.usesWorkerTasks, true);
    pool.start(1); // after the factory, as the composition root does: the preloaded module builds the tokenizer
    const inline = registration.factory('t', { local: { path: qwen } }, testHandle()) as TokenProducer;
    // Over INLINE_BELOW_CHARS of new text, so it goes to the worker (a short turn is encoded from the main thread).
    const [a, b] = realChunks(2, 20_000);
    const body = { model: 'm', messages: [{ role: 'user', content: a }, { role: 'assistant', content: b }, { role: 'user', content: 'why?' }] };
    const rp = request('chat-completions', body);
    const ri = request('chat-completions', body);
    await pooled.produce(rp, []);
    await inline.produce(ri, []);
    assert.deepEqual([...rp.tokenizedPrompt!.prompts[0]!.tokenIds], [...ri.tokenizedPrompt!.prompts[0]!.tokenIds]);
    assert.ok(pool.stats.worker >= 1, `ran on a worker: ${JSON.stringify(pool.stats)}`);
    assert.equal(pool.stats.inline, 0);
    const short = request('chat-completions', { model: 'm', messages: [{ role: 'user', content: 'a short turn' }] });
    await pooled.produce(short, []);
    assert.equal(pool.stats.worker, 1, 'a short turn does not queue on the worker');
    assert.ok(short.tokenizedPrompt);
  } finally {
    await pool.close();
  }
});
