import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsExtractor, type ExtractedMetrics } from '../../src/datalayer/extract.js';
import { ENGINES } from '../../src/plugins/core-metrics-extractor/engines.js';
import { parseSelector } from '../../src/plugins/core-metrics-extractor/metric-selector.js';
import { ConfigError } from '../../src/errors.js';
import { vllmPage } from '../helpers/vllm-page.js';

const pick = (m: ExtractedMetrics) => ({
  waiting: m.waitingQueueSize,
  running: m.runningRequestsSize,
  kv: m.kvCacheUsage,
  active: m.activeModels && [...m.activeModels],
  waitingModels: m.waitingModels && [...m.waitingModels],
  maxLora: m.maxActiveModels,
  blockSize: m.cacheBlockSize,
  numBlocks: m.cacheNumBlocks,
  problems: m.problems,
});

test('each engine mapping reads its own series', () => {
  const cases: { engine: string; page: string; want: ReturnType<typeof pick> }[] = [
    {
      engine: 'vllm',
      page: vllmPage({ waiting: 4, running: 7, kv: 0.5 }),
      want: { waiting: 4, running: 7, kv: 0.5, active: ['sql', 'chat'], waitingModels: [], maxLora: 4, blockSize: 16, numBlocks: 2048, problems: [] },
    },
    {
      engine: 'vllm',
      page: 'vllm:num_requests_waiting 1\nvllm:num_requests_running 2\nvllm:gpu_cache_usage_perc{model_name="m"} 0.7\n',
      want: { waiting: 1, running: 2, kv: 0.7, active: undefined, waitingModels: undefined, maxLora: undefined, blockSize: undefined, numBlocks: undefined, problems: [] },
    },
    {
      engine: 'sglang',
      page: 'sglang:num_queue_reqs{model_name="m"} 3\nsglang:num_running_reqs{model_name="m"} 5\nsglang:token_usage{model_name="m"} 0.125\nsglang:cache_config_info{page_size="32",num_pages="9000"} 1\n',
      want: { waiting: 3, running: 5, kv: 0.125, active: undefined, waitingModels: undefined, maxLora: undefined, blockSize: 32, numBlocks: 9000, problems: [] },
    },
    {
      engine: 'trtllm-serve',
      page: 'trtllm_num_requests_waiting 2\ntrtllm_num_requests_running 6\ntrtllm_kv_cache_utilization 0.9\ntrtllm_kv_cache_tokens_per_block 64\ntrtllm_kv_cache_max_blocks 512\n',
      want: { waiting: 2, running: 6, kv: 0.9, active: undefined, waitingModels: undefined, maxLora: undefined, blockSize: 64, numBlocks: 512, problems: [] },
    },
    {
      engine: 'triton-tensorrt-llm',
      page: [
        'nv_trt_llm_request_metrics{model="ensemble",request_type="context"} 1',
        'nv_trt_llm_request_metrics{model="ensemble",request_type="scheduled"} 8',
        'nv_trt_llm_request_metrics{model="ensemble",request_type="waiting"} 2',
        'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="fraction",model="ensemble"} 0.3',
        'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="tokens_per",model="ensemble"} 128',
        'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="max",model="ensemble"} 4000',
      ].join('\n'),
      want: { waiting: 2, running: 8, kv: 0.3, active: undefined, waitingModels: undefined, maxLora: undefined, blockSize: 128, numBlocks: 4000, problems: [] },
    },
  ];
  for (const c of cases) assert.deepEqual(pick(new MetricsExtractor(ENGINES.get(c.engine)!).extract(c.page)), c.want, c.engine);
});

test('bad pages never throw and never yield a non-finite figure', () => {
  const vllm = new MetricsExtractor(ENGINES.get('vllm')!);
  const cases: { name: string; page: string; want: Partial<ReturnType<typeof pick>> }[] = [
    { name: 'garbage', page: '\u0000\u0001 not prometheus {{{ "', want: { waiting: undefined, problems: ['vllm:num_requests_waiting: missing', 'vllm:num_requests_running: missing', 'vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc: missing'] } },
    { name: 'empty', page: '', want: { running: undefined } },
    {
      name: 'NaN and +Inf are refused',
      page: 'vllm:num_requests_waiting NaN\nvllm:num_requests_running +Inf\nvllm:kv_cache_usage_perc 0.2\n',
      want: { waiting: undefined, running: undefined, kv: 0.2, problems: ['vllm:num_requests_waiting: value NaN is not a finite number', 'vllm:num_requests_running: value Infinity is not a finite number'] },
    },
    { name: 'unterminated labels', page: 'vllm:num_requests_waiting{model_name="m 3\nvllm:num_requests_running 1\nvllm:kv_cache_usage_perc 0\n', want: { waiting: undefined, running: 1, kv: 0 } },
    { name: 'a longer name sharing the prefix is not the series', page: 'vllm:num_requests_waiting_total 9\nvllm:num_requests_waiting 2\nvllm:num_requests_running 1\nvllm:kv_cache_usage_perc 0\n', want: { waiting: 2, problems: [] } },
    { name: 'timestamps after the value', page: 'vllm:num_requests_waiting 5 1700000000000\nvllm:num_requests_running 1\nvllm:kv_cache_usage_perc 0.5 1700000000000\n', want: { waiting: 5, kv: 0.5 } },
    { name: 'escaped quotes in labels', page: 'vllm:num_requests_waiting{model_name="a \\"quoted\\" name"} 3\nvllm:num_requests_running 1\nvllm:kv_cache_usage_perc 0\n', want: { waiting: 3, problems: [] } },
    {
      name: 'the newest LoRA series wins',
      page: 'vllm:lora_requests_info{max_lora="2",running_lora_adapters="old",waiting_lora_adapters=""} 100\nvllm:lora_requests_info{max_lora="2",running_lora_adapters="new",waiting_lora_adapters="q1, q2"} 200\nvllm:lora_requests_info{max_lora="2",running_lora_adapters="older",waiting_lora_adapters=""} 50\n',
      want: { active: ['new'], waitingModels: ['q1', 'q2'], maxLora: 2 },
    },
    { name: 'kv_cache_usage_perc wins over the old name whatever the order', page: 'vllm:gpu_cache_usage_perc 0.9\nvllm:kv_cache_usage_perc 0.1\nvllm:gpu_cache_usage_perc 0.8\n', want: { kv: 0.1 } },
  ];
  for (const c of cases) {
    const got = pick(vllm.extract(c.page));
    for (const [k, v] of Object.entries(c.want)) assert.deepEqual(got[k as keyof typeof got], v, `${c.name}: ${k}`);
  }
});

test('selectors: name and label matchers; bad ones are ConfigErrors', () => {
  assert.deepEqual(parseSelector('nv_trt_llm_request_metrics{request_type="waiting", model="x"}'), { name: 'nv_trt_llm_request_metrics', labels: [['request_type', 'waiting'], ['model', 'x']] });
  assert.deepEqual(parseSelector('vllm:num_requests_waiting'), { name: 'vllm:num_requests_waiting', labels: [] });
  assert.deepEqual(parseSelector('custom_queue_size{status=waiting}'), { name: 'custom_queue_size', labels: [['status', 'waiting']] }, 'unquoted, as the Go built-ins write it');
  for (const bad of ['', '9bad', 'm{a=}', 'm{a="b"', 'm{="x"}', 'm{a="b",c}']) {
    assert.throws(() => parseSelector(bad, 'engineConfigs[0].queuedRequestsSpec'), (e: unknown) => e instanceof ConfigError && e.path === 'engineConfigs[0].queuedRequestsSpec', bad);
  }
});

test('customMetrics: each series becomes a numeric attribute of core-metrics-extractor; missing or NaN is a problem', async () => {
  const { compileEngines } = await import('../../src/plugins/core-metrics-extractor/engines.js');
  const engines = compileEngines([
    { name: 'custom', queuedRequestsSpec: 'q', runningRequestsSpec: 'r', kvUsageSpec: 'kv', customMetrics: [{ attributeKey: 'custom.queue_depth', metricSpec: 'depth{tier=gold}' }, { attributeKey: 'temp', metricSpec: 'gpu_temp' }] },
  ]);
  const x = new MetricsExtractor(engines.get('custom')!);
  const cases: { name: string; page: string; attributes: [string, number][]; problems: string[] }[] = [
    { name: 'both present; the label matcher picks the series; the first match wins', page: 'q 1\nr 2\nkv 0.5\ndepth{tier="silver"} 9\ndepth{tier="gold"} 4\ndepth{tier="gold"} 5\ngpu_temp 61\n', attributes: [['custom.queue_depth/core-metrics-extractor', 4], ['temp/core-metrics-extractor', 61]], problems: [] },
    { name: 'one missing', page: 'q 1\nr 2\nkv 0.5\ngpu_temp 60\n', attributes: [['temp/core-metrics-extractor', 60]], problems: ['depth{tier="gold"}: missing'] },
    { name: 'NaN', page: 'q 1\nr 2\nkv 0.5\ndepth{tier="gold"} 3\ngpu_temp NaN\n', attributes: [['custom.queue_depth/core-metrics-extractor', 3]], problems: ['gpu_temp: value NaN is not a finite number'] },
  ];
  for (const c of cases) {
    const m = x.extract(c.page);
    assert.deepEqual([...(m.attributes ?? [])], c.attributes, c.name);
    assert.deepEqual(m.problems, c.problems, c.name);
  }
  assert.ok(x.sampleNames.includes('depth') && x.sampleNames.includes('gpu_temp'), 'the name[] filter asks for them');
  assert.throws(() => compileEngines([{ name: 'e', customMetrics: [{ attributeKey: 'a', metricSpec: 'bad{' }] }]), /customMetrics\[0\]\.metricSpec/);
  assert.throws(() => compileEngines([{ name: 'e', customMetrics: [{ attributeKey: '', metricSpec: 'x' }] }]), /customMetrics\[0\]\.attributeKey: must not be empty/);
});

test('with a pod memo: the same figures as without, page after page; an unchanged page gives the same frozen result', async () => {
  const { ExtractMemo, KEPT_PAGE_BYTES } = await import('../../src/datalayer/extract.js');
  const { restrictToNames } = await import('../../src/sim/name-filter.js');
  const vllm = new MetricsExtractor(ENGINES.get('vllm')!);
  const sglang = new MetricsExtractor(ENGINES.get('sglang')!);
  const small = (spec: Parameters<typeof vllmPage>[0]) => restrictToNames(vllmPage(spec), vllm.sampleNames);
  const pages: [MetricsExtractor, string][] = [
    [vllm, small({ waiting: 1, running: 2, kv: 0.5 })],
    [vllm, small({ waiting: 1, running: 2, kv: 0.5 })],
    [vllm, small({ waiting: 11, running: 0, kv: 0.125 })],
    [vllm, small({ waiting: 12, running: 0, kv: 0.125 })], // one byte changed
    [vllm, small({ waiting: 11, running: 0, kv: 0.125, lora: { running: ['a'], waiting: ['b', 'c'], max: 8 } })],
    [vllm, small({ waiting: 11, running: 0, kv: 0.125, model: 'other' })],
    [vllm, 'vllm:num_requests_waiting NaN\nvllm:num_requests_waiting{x="unterminated 1\nvllm:num_requests_running 3\n'],
    [vllm, 'vllm:num_requests_waiting NaN\nvllm:num_requests_waiting{x="unterminated 1\nvllm:num_requests_running 3\n'],
    [vllm, vllmPage({ waiting: 2 })], // over KEPT_PAGE_BYTES: not kept, still read right
    [vllm, vllmPage({ waiting: 3 })],
    [sglang, 'sglang:num_queue_reqs 3\nsglang:num_running_reqs 5\nsglang:token_usage 0.5\nsglang:cache_config_info{page_size="32",num_pages="9000"} 1\n'],
    [vllm, small({ waiting: 11, running: 0, kv: 0.125, model: 'other' })], // the memo was another extractor's meanwhile
  ];
  assert.ok(vllmPage().length > KEPT_PAGE_BYTES && small({}).length < KEPT_PAGE_BYTES);
  const memo = new ExtractMemo();
  let last: ExtractedMetrics | undefined;
  for (const [i, [extractor, page]] of pages.entries()) {
    const got = extractor.extract(Buffer.from(page, 'latin1'), memo);
    assert.deepEqual(pick(got), pick(extractor.extract(page)), `page ${i}`);
    if (i === 1 || i === 7) assert.equal(got, last, `page ${i} is page ${i - 1} again: the kept result`);
    if (i === 2 || i === 3 || i === 10) assert.notEqual(got, last);
    last = got;
  }
  const kept = vllm.extract(Buffer.from(pages[0]![1]), memo);
  assert.ok(Object.isFrozen(kept) && Object.isFrozen(kept.problems), 'a kept result cannot be changed by a reader');
});
