/**
 * P/D disaggregation end to end over real gRPC with examples/configs/pd.yaml: pods labelled by role, the
 * decode pod as the destination and the prefill pod in x-prefiller-host-port when the decode pod lacks
 * the prompt; decode-only for short prompts and once the decode pod holds the prompt; the decision metric.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationOf, fakePods, headerSet, requestBody, requestHeaders, startTestEpp, Stream } from '../helpers/ext-proc-harness.js';
import { exampleConfig } from '../helpers/config-cycle.js';

const ROLE = 'llm-d.ai/role';

test('e2e P/D: decode destination with the prefill pod in x-prefiller-host-port; decode-only for a short or cached prompt; the decision metric', async () => {
  const fake = await fakePods([{ waiting: 0, kv: 0.1 }, { waiting: 0, kv: 0.1 }, { waiting: 0, kv: 0.1 }, { waiting: 0, kv: 0.1 }]);
  const roles = ['prefill', 'prefill', 'decode', 'decode'];
  const t = await startTestEpp({ endpoints: fake.pods.map((p, i) => ({ name: p.name, port: p.port, labels: { [ROLE]: roles[i]! } })), config: exampleConfig('pd.yaml') });
  const prefill = fake.pods.slice(0, 2).map((p) => p.hostPort);
  const decode = fake.pods.slice(2).map((p) => p.hostPort);
  const route = async (content: string) => {
    const s = new Stream(t.client).send(requestHeaders({})).send(requestBody(JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] })));
    const [first] = await s.responses(1);
    s.cancel();
    return { destination: destinationOf(s.received), prefiller: headerSet(first, 'x-prefiller-host-port') };
  };
  try {
    const long = 'A long document about paged attention and KV-cache block tables. '.repeat(40);
    const first = await route(long);
    assert.ok(decode.includes(first.destination!), `destination ${first.destination} is a decode pod`);
    assert.ok(prefill.includes(first.prefiller!), `x-prefiller-host-port ${first.prefiller} is a prefill pod`);

    const short = await route('hi');
    assert.ok(decode.includes(short.destination!));
    assert.equal(short.prefiller, undefined, 'a prompt shorter than nonCachedTokens runs on the decode pod alone');

    const again = await route(long);
    assert.equal(again.destination, first.destination, 'the decode pod that learned the prompt');
    assert.equal(again.prefiller, undefined, 'it holds the prompt now: no prefill needed');

    const metrics = await (await fetch(`http://127.0.0.1:${t.epp.metricsPort}/metrics`)).text();
    assert.match(metrics, /llm_d_epp_disagg_decision_total\{plugin_name="disagg-profile-handler",plugin_type="disagg-profile-handler",model_name="m",decision_type="prefill-decode"\} 1/);
    assert.match(metrics, /llm_d_epp_disagg_decision_total\{[^}]*decision_type="decode-only"\} 2/);
    assert.match(metrics, /llm_d_inference_scheduler_disagg_decision_total\{model_name="m",decision_type="prefill-decode"\} 1/);
  } finally {
    await t.close();
    await fake.close();
  }
});
