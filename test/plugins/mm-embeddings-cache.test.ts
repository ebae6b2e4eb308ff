/** mm-embeddings-cache-producer and -scorer: distinct items, learning at PreRequest, LRU bound, scores. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MapCycleState } from '../../src/scheduling/cycle-state.js';
import { registration as producerRegistration, MmEmbeddingsCacheProducer, multimodalItems } from '../../src/plugins/mm-embeddings-cache-producer/index.js';
import { MmEmbeddingsCacheScorer } from '../../src/plugins/mm-embeddings-cache-scorer/index.js';
import { makeEndpoint, makeRequest, testHandle } from '../helpers/fixtures.js';

const withMedia = (id: string, hashes: string[]) => ({
  ...makeRequest({ requestId: id }),
  tokenizedPrompt: { prompts: [{ tokenIds: new Uint32Array(4), multiModalFeatures: hashes.map((hash, i) => ({ modality: 'image', hash, offset: i, length: 1 })) }], cacheSalt: '', exact: false },
});
const [a, b] = [makeEndpoint({ name: 'a' }), makeEndpoint({ name: 'b' })];
const routeTo = (p: MmEmbeddingsCacheProducer, request: ReturnType<typeof withMedia>, pod: typeof a) => {
  p.produce(request, [a!, b!], new MapCycleState());
  p.preRequest(request, { primaryProfileName: 'default', profileResults: new Map([['default', { targetEndpoints: [{ endpoint: pod!, score: 1 }] }]]) });
};
const scores = (p: MmEmbeddingsCacheProducer, request: ReturnType<typeof withMedia>) => {
  const cs = new MapCycleState();
  p.produce(request, [a!, b!], cs);
  return [...new MmEmbeddingsCacheScorer('s').score(cs, request, [a!, b!])];
};

test('mm-embeddings cache: items are distinct hashes; pods learn what was routed to them; the score is the held fraction', () => {
  assert.deepEqual(multimodalItems(withMedia('x', ['h1', 'h2', 'h1'])), ['h1', 'h2']);
  const p = producerRegistration.factory('mm', undefined, testHandle()) as MmEmbeddingsCacheProducer;
  assert.equal(p.capacityPerPod, 2048, '4096 MiB / 2 MiB');
  const cases: { name: string; route?: [string[], typeof a]; ask: string[]; want: number[] }[] = [
    { name: 'nothing learned yet', ask: ['h1'], want: [0, 0] },
    { name: 'after routing h1,h2 to a: a holds both', route: [['h1', 'h2', 'h1'], a], ask: ['h1', 'h2'], want: [1, 0] },
    { name: 'half of a new request', ask: ['h1', 'h9'], want: [0.5, 0] },
    { name: 'b learns h9', route: [['h9'], b], ask: ['h1', 'h9'], want: [0.5, 0.5] },
    { name: 'no media: no score', ask: [], want: [0, 0] },
  ];
  let n = 0;
  for (const c of cases) {
    if (c.route) routeTo(p, withMedia(`r${n++}`, c.route[0]), c.route[1]);
    assert.deepEqual(scores(p, withMedia(`q${n++}`, c.ask)), c.want, c.name);
  }
  p.endpointRemoved(a!.key);
  assert.equal(p.itemsOf(a!.key), 0, 'a pod that leaves takes its items with it');
});

test('mm-embeddings cache: the per-pod LRU keeps cacheSizeInMBPerServer / 2 items, oldest out', () => {
  const p = producerRegistration.factory('mm', { cacheSizeInMBPerServer: 4 }, testHandle()) as MmEmbeddingsCacheProducer;
  routeTo(p, withMedia('1', ['h1', 'h2']), a);
  routeTo(p, withMedia('2', ['h3']), a);
  assert.equal(p.itemsOf(a!.key), 2);
  assert.deepEqual(scores(p, withMedia('3', ['h1', 'h2', 'h3'])), [2 / 3, 0], 'h1 went, h2 and h3 stay');
});
