/**
 * A burst of requests sharing a prompt (an RL rollout group) over real gRPC with llm-d's burst pipeline:
 * burst-prefix-cache-producer holds them for its window and sends each group to one pod, the groups of
 * one window to different pods, and every request is released afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../helpers/until.js';
import { destinationOf, fakePods, requestBody, requestHeaders, startTestEpp, Stream } from '../helpers/ext-proc-harness.js';

const config = `plugins:
- type: single-profile-handler
- type: burst-prefix-cache-producer
  parameters: {windowDurationMs: 50, maxPerReplica: -1}
- type: prefix-cache-scorer
  parameters: {prefixMatchInfoProducerName: burst-prefix-cache-producer}
- type: load-aware-scorer
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - {pluginRef: prefix-cache-scorer, weight: 2.0}
  - {pluginRef: load-aware-scorer, weight: 1.0}
  - {pluginRef: max-score-picker}
`;

test('e2e burst: the samples of one prompt arriving together land on one pod; another group goes to another pod', async () => {
  const fake = await fakePods([{ waiting: 0, kv: 0.1 }, { waiting: 0, kv: 0.1 }, { waiting: 0, kv: 0.1 }]);
  const t = await startTestEpp({ endpoints: fake.pods.map((p) => ({ name: p.name, port: p.port })), config }).catch(async (err: unknown) => {
    await fake.close();
    throw err;
  });
  const route = async (content: string) => {
    const s = new Stream(t.client).send(requestHeaders({})).send(requestBody(JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] })));
    await s.responses(1);
    const destination = destinationOf(s.received);
    s.cancel();
    return destination;
  };
  try {
    const group = (topic: string) => `${topic}: ${'solve the task step by step and show the work. '.repeat(40)}`;
    const started = performance.now();
    const picks = await Promise.all([...Array(6).fill(group('rollout A')).map(route), ...Array(6).fill(group('rollout B')).map(route)]);
    assert.ok(performance.now() - started >= 45, 'held for the window');
    const [a, b] = [new Set(picks.slice(0, 6)), new Set(picks.slice(6))];
    assert.equal(a.size, 1, `group A on one pod: ${[...a].join(', ')}`);
    assert.equal(b.size, 1, `group B on one pod: ${[...b].join(', ')}`);
    assert.notEqual([...a][0], [...b][0], 'the two groups are balanced over different pods');
    await until(() => t.epp.tracker.totalInFlight() === 0, 'every cancelled request released');
  } finally {
    await t.close();
    await fake.close();
  }
});
