/**
 * End-to-end over real gRPC with simulated vLLM servers: a token producer in the config (`local` on a
 * worker thread, then `vllm` against the simulator's render endpoint) makes the pick wait for the tokens,
 * the request is routed, and /metrics reports the tokens and the segment cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chat, destinationOf, requestBody, requestHeaders, startTestEpp, Stream, streamedRequestBody } from '../helpers/ext-proc-harness.js';
import { startSimPool } from '../../src/sim/server.js';
import { bundledQwen3Dir } from '../../src/tokenization/model-files.js';
import { until } from '../helpers/until.js';

const configWith = (producer: string) => `plugins:
${producer}
- type: prefix-cache-scorer
- type: queue-scorer
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: prefix-cache-scorer
  - pluginRef: queue-scorer
`;

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

const value = (text: string, line: RegExp) => Number(line.exec(text)?.[1] ?? NaN);

test('e2e tokenization: local on a worker, then vllm against the simulator; routed, counted, cached', async () => {
  const sims = await startSimPool(2, { model: 'qwen3' });
  const endpoints = sims.servers.map((s) => ({ name: s.name, port: s.port }));
  try {
    const local = configWith(`- type: token-producer\n  parameters:\n    local:\n      path: ${JSON.stringify(bundledQwen3Dir())}`);
    const vllm = configWith(`- type: tokenizer\n  parameters:\n    modelName: qwen3\n    vllm:\n      url: ${sims.servers[0]!.url}\n      timeout: 60s`);
    for (const [name, config, args] of [['local', local, ['--workers=1']], ['vllm', vllm, ['--workers=0']]] as const) {
      const t = await startTestEpp({ endpoints, config, args });
      try {
        const messages = [{ role: 'user', content: 'Summarise the ext_proc protocol in one line.' }];
        for (let turn = 0; turn < 2; turn++) {
          const body = chat('qwen3', { messages });
          const s = new Stream(t.client).send(requestHeaders({ 'content-length': String(body.length) })).send(requestBody(body));
          // The first request waits for the tokenizer to finish loading: generous on a busy machine.
          await until(() => s.received.length >= 2 || s.ended, `${name}: 2 responses`, 120_000);
          const got = s.received;
          assert.ok(endpoints.some((e) => destinationOf(got) === `127.0.0.1:${e.port}`), `${name}: routed`);
          assert.equal(streamedRequestBody(got), body);
          s.endSide();
          messages.push({ role: 'assistant', content: 'It streams request phases to a processor.' }, { role: 'user', content: 'And the body?' });
        }
        const text = await metricsText(t.epp.metricsPort);
        const producer = name === 'local' ? 'token-producer' : 'tokenizer';
        const backend = name;
        assert.equal(value(text, new RegExp(`inference_extension_tokenizer_requests_total\\{plugin="${producer}",backend="${backend}",outcome="tokenized"\\} (\\d+)`)), 2, text);
        assert.ok(value(text, new RegExp(`inference_extension_tokenizer_tokens_total\\{plugin="${producer}"\\} (\\d+)`)) > 20);
        if (name === 'local') {
          // The second turn found the first turn's segments in the cache.
          assert.ok(value(text, /inference_extension_tokenizer_segment_cache_lookups_total\{plugin="token-producer",result="hit"\} (\d+)/) >= 2, text);
          assert.ok(value(text, /inference_extension_tokenizer_segment_cache_bytes\{plugin="token-producer"\} (\d+)/) > 0);
        }
      } finally {
        await t.close();
      }
    }
  } finally {
    await sims.close();
  }
});
