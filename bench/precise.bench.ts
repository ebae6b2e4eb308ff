/**
 * Precise prefix routing's costs (main thread): ingesting vLLM KV-event batches (BlockStored of 16-token
 * blocks, keys recomputed from token ids), the lookup for a 100 K-token prompt (its block keys, then the
 * longest prefix over 64 pods), and the index's memory per block. Aims (issue #11): ingestion ≥ 200,000
 * events/s, lookup ≤ 0.5 ms at 100 K tokens. `node dist/bench/precise.bench.js`.
 */
import { Bench } from 'tinybench';
import { Packr } from 'msgpackr';
import { BlockKeyer } from '../src/kvindex/block-keys.js';
import { KvBlockIndex } from '../src/kvindex/kv-block-index.js';
import { KvEventIngester } from '../src/kvindex/ingest.js';

export interface PreciseRow {
  eventsPerSec: number;
  blocksPerSec: number;
  keysUs100k: number;
  matchUs100k: number;
  bytesPerBlock: number;
}

const BLOCK = 16;

export async function runPreciseBench(): Promise<PreciseRow> {
  const packr = new Packr({ useRecords: false, variableMapSize: true });
  const keyer = new BlockKeyer({ blockSize: BLOCK, hashSeed: '' });
  // A batch as a vLLM step sends it: one BlockStored of 4 new blocks (64 token ids), chained on the last.
  const batches: Uint8Array[] = [];
  let engine = 1n;
  for (let b = 0; b < 2000; b++) {
    const tokens = Array.from({ length: 4 * BLOCK }, (_, i) => (b * 131 + i * 7) % 151_000);
    const hashes = [engine, engine + 1n, engine + 2n, engine + 3n];
    batches.push(packr.pack([Date.now() / 1000, [['BlockStored', hashes, b % 50 === 0 ? null : engine - 1n, tokens, BLOCK]], 0]));
    engine += 4n;
  }
  const ix = new KvBlockIndex({ size: 10_000_000, podCacheSize: 10, tierWeights: { gpu: 1, cpu: 0.8 } });
  const ingester = new KvEventIngester(ix, keyer);
  let seq = 0n;
  let next = 0;
  const bench = new Bench({ time: 1000, warmupTime: 200 });
  bench.add('ingest', () => {
    ingester.message('10.0.0.1:8000', 'kv@10.0.0.1:8000@m', seq++, batches[next++ % batches.length]!);
  });
  // A 100 K-token prompt whose first half pod 0 holds.
  const prompt = Uint32Array.from({ length: 100_000 }, (_, i) => (i * 17) % 151_000);
  const lookupIx = new KvBlockIndex({ size: 10_000_000, podCacheSize: 10, tierWeights: { gpu: 1 } });
  const { keys } = keyer.chain('m', prompt);
  lookupIx.stored('pod-0', [], keys.slice(0, keys.length / 2), 'gpu');
  const pods = Array.from({ length: 64 }, (_, i) => `pod-${i}`);
  bench.add('keys 100K tokens', () => keyer.chain('m', prompt));
  bench.add('match 64 pods', () => lookupIx.match(keys, pods));
  await bench.run();
  const mean = (i: number) => (bench.tasks[i]!.result as unknown as { latency: { mean: number } }).latency.mean * 1000;

  // Memory: one million stored blocks on one pod.
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const memIx = new KvBlockIndex({ size: 10_000_000, podCacheSize: 10, tierWeights: { gpu: 1 } });
  const N = 1_000_000;
  const chunk: number[] = [];
  for (let i = 0; i < N; i++) {
    chunk.push(i * 2654435761 + 1);
    if (chunk.length === 1000) {
      memIx.stored('pod-0', chunk, chunk, 'gpu');
      chunk.length = 0;
    }
  }
  globalThis.gc?.();
  const after = process.memoryUsage().heapUsed;
  if (memIx.size !== N) throw new Error(`expected ${N} keys, got ${memIx.size}`);
  return { eventsPerSec: 1e6 / mean(0), blocksPerSec: (4 * 1e6) / mean(0), keysUs100k: mean(1), matchUs100k: mean(2), bytesPerBlock: (after - before) / N };
}

export async function printPreciseBench(): Promise<void> {
  const r = await runPreciseBench();
  console.log('\nPrecise prefix index (main thread): KV-event ingestion, lookup of a 100 K-token prompt over 64 pods, memory');
  console.log(`  ingestion: ${r.eventsPerSec.toFixed(0)} BlockStored events/s (${r.blocksPerSec.toFixed(0)} blocks/s, keys recomputed from token ids)`);
  console.log(`  100 K tokens: block keys ${r.keysUs100k.toFixed(0)} µs, longest-prefix match over 64 pods ${r.matchUs100k.toFixed(0)} µs`);
  console.log(`  memory: ${r.bytesPerBlock.toFixed(0)} bytes of heap per indexed block (1 M blocks, one pod)`);
}

if (import.meta.url === `file://${process.argv[1]}`) await printPreciseBench();
