/**
 * Precise prefix-cache routing end to end: simulated vLLM pods publishing KV-cache events over ZMQ (each on
 * its own loopback address, one port, as pods), the real EPP subscribing to each pod as discovery reports
 * it, tokenizing with the same Qwen3 tokenizer, and routing over real gRPC to the pod that really holds the
 * prompt's blocks, including one the EPP never sent it to; a cache reset and an engine restart move it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationOf, requestBody, requestHeaders, startTestEpp, Stream } from '../helpers/ext-proc-harness.js';
import { startSimPool } from '../../src/sim/server.js';
import { bundledQwen3Dir } from '../../src/tokenization/model-files.js';
import { PrecisePrefixCacheProducer } from '../../src/plugins/precise-prefix-cache-producer/index.js';
import { realParagraphs } from '../helpers/real-text.js';
import { simTokenizer } from '../../src/sim/render.js';
import { until } from '../helpers/until.js';

const MODEL = 'sim-model';

function config_(socketPort: number): string {
  return `plugins:
- type: token-producer
  parameters: {local: {path: ${JSON.stringify(bundledQwen3Dir())}}}
- type: precise-prefix-cache-producer
  parameters:
    kvEventsConfig: {podDiscoveryConfig: {socketPort: ${socketPort}}}
- type: prefix-cache-scorer
  parameters: {prefixMatchInfoProducerName: precise-prefix-cache-producer}
- type: queue-scorer
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - {pluginRef: prefix-cache-scorer, weight: 5}
  - {pluginRef: queue-scorer, weight: 1}
  - {pluginRef: max-score-picker}
`;
}

const paragraphs = realParagraphs(40_000);
const conversation = (n: number) => JSON.stringify({ model: MODEL, max_tokens: 4, messages: [{ role: 'system', content: paragraphs.slice(n * 5, n * 5 + 5).join('\n\n') }, { role: 'user', content: `question ${n}` }] });

test('e2e precise prefix: routes to the pod whose KV events say it holds the prompt; reset and restart are followed', async () => {
  const port = 20_000 + Math.floor(Math.random() * 12_000); // below the ephemeral range
  const pool = await startSimPool(3, { model: MODEL, kvEvents: { port } });
  const t = await startTestEpp({ endpoints: pool.servers.map((s) => ({ name: s.name, port: s.port, address: s.address })), config: config_(port) });
  const producer = t.epp.config.plugins.get('precise-prefix-cache-producer') as PrecisePrefixCacheProducer;
  const route = async (body: string) => {
    const s = new Stream(t.client).send(requestHeaders({})).send(requestBody(body));
    await s.responses(1);
    s.cancel();
    return destinationOf(s.received);
  };
  const warm = async (i: number, body: string) => {
    const s = pool.servers[i]!;
    const res = await fetch(`http://${s.address}:${s.port}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 200, await res.text());
  };
  const hostPort = (i: number) => `${pool.servers[i]!.address}:${pool.servers[i]!.port}`;
  try {
    await until(() => producer.subscribedPods === 3, 'a subscriber per pod');
    await new Promise((r) => setTimeout(r, 300)); // ZMQ's slow joiner: the SUBs finish connecting

    // A prompt the EPP never routed, served straight by sim-2: only its events can tell.
    const a = conversation(1);
    await warm(2, a);
    await until(() => producer.index.size > 0, 'sim-2\'s blocks indexed');
    for (let i = 0; i < 3; i++) assert.equal(await route(a), hostPort(2), 'routed to the pod that holds it');

    // Another prompt warmed on sim-0 goes there, while the first still goes to sim-2.
    const b = conversation(2);
    await warm(0, b);
    await until(() => producer.ingester.stats.batches >= 2, 'sim-0\'s events');
    assert.equal(await route(b), hostPort(0));
    assert.equal(await route(a), hostPort(2));

    // sim-2 clears its cache (AllBlocksCleared): nothing draws the prompt there any more.
    const before = producer.index.size;
    const reset = await fetch(`http://${hostPort(2)}/reset_prefix_cache`, { method: 'POST' });
    assert.equal(reset.status, 200);
    await until(() => producer.index.size < before, 'the clear applied');
        await warm(1, a);
    await until(() => producer.index.size >= before, 'sim-1 stored the prompt');
    assert.equal(await route(a), hostPort(1), 'now sim-1 holds it');
    // The prompt's own block keys, from the same tokenizer the pods use.
    const ids = (await simTokenizer().tokenize('chat-completions', JSON.parse(a) as Record<string, unknown>))![0]!.tokenIds;
    const keysA = producer.keyer.chain(MODEL, ids).keys;
    const held = (i: number) => producer.index.match(keysA, [hostPort(i)]).get(hostPort(i))!.blocks;
    assert.ok(held(1) > 0 && held(2) === 0, `sim-1 holds ${held(1)} blocks, sim-2 ${held(2)}`);

    // sim-1 restarts (sequence back to 0, cache gone): the next batch shows it, and its old entries go. (A
    // restart right after a pod's first batch looks like a duplicate of seq 0: one more batch first.)
    const batches = producer.ingester.stats.batches;
    await warm(1, conversation(4));
    await until(() => producer.ingester.stats.batches > batches, 'another batch from sim-1');
    await fetch(`http://${hostPort(1)}/sim/restart`, { method: 'POST' });
    await new Promise((r) => setTimeout(r, 300)); // the reopened PUB reconnects
    await warm(1, conversation(3));
    await until(() => producer.ingester.stats.restarts === 1, 'the restart detected');
    assert.equal(held(1), 0, 'the restarted pod holds none of the old prompt any more');
    assert.equal(producer.ingester.stats.malformed, 0);
  } finally {
    await t.close();
    await new Promise((r) => setTimeout(r, 100)); // the EPP's ZMQ pipes end before the pods' (see test/sim/kv-events-wire.ts)
    await pool.close();
  }
  assert.equal(producer.subscribedPods, 0, 'every socket closed with the EPP');
});

test('e2e precise prefix with replaySocketPort: an EPP started after the pods learns what they stored before, from their ROUTER sockets', async () => {
  const port = 20_000 + Math.floor(Math.random() * 12_000);
  const pool = await startSimPool(2, { model: MODEL, kvEvents: { port, replayPort: port + 1 } });
  const hostPort = (i: number) => `${pool.servers[i]!.address}:${pool.servers[i]!.port}`;
  const warm = async (i: number, body: string) => {
    const res = await fetch(`http://${hostPort(i)}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 200);
  };
  // Before any EPP listens: sim-1 stores two prompts (batches 0 and 1).
  const early = conversation(5);
  await warm(1, early);
  await warm(1, conversation(6));
  const config = config_(port).replace('kvEventsConfig: {podDiscoveryConfig: {socketPort: ' + port + '}}', `kvEventsConfig: {podDiscoveryConfig: {socketPort: ${port}, replaySocketPort: ${port + 1}}}`);
  const t = await startTestEpp({ endpoints: pool.servers.map((s) => ({ name: s.name, port: s.port, address: s.address })), config });
  const producer = t.epp.config.plugins.get('precise-prefix-cache-producer') as PrecisePrefixCacheProducer;
  try {
    await until(() => producer.subscribedPods === 2, 'subscribed');
    await new Promise((r) => setTimeout(r, 300));
    await warm(1, conversation(7)); // batch 2: the first this EPP hears, so it replays 0..1
    await until(() => producer.ingester.stats.replays === 1 && producer.ingester.replaying === 0 && producer.ingester.stats.batches === 3, 'replayed');
    const s = new Stream(t.client).send(requestHeaders({})).send(requestBody(early));
    await s.responses(1);
    s.cancel();
    assert.equal(destinationOf(s.received), hostPort(1), 'routed to the pod that stored it before the EPP started');
    assert.equal(producer.ingester.stats.orphans, 0);
  } finally {
    await t.close();
    await new Promise((r) => setTimeout(r, 100)); // the EPP's ZMQ pipes end before the pods' (see test/sim/kv-events-wire.ts)
    await pool.close();
  }
});
