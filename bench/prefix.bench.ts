/**
 * The approximate prefix index's per-request costs, in process: the WebAssembly prefix chain over a 4 KB
 * prompt (64 blocks of 64 bytes), and one request's match + learn on 64 pods whose LRUs are full and
 * evicting (16 blocks shared by every request, 48 new: the varied-prompt server benchmark's shape), for the
 * typed-array index and, in the same run, the Map-per-endpoint index it replaced (test/helpers).
 */
import { Bench } from 'tinybench';
import { chainHashes, xxh64 } from '../src/plugins/approx-prefix-cache-producer/xxh64.js';
import { PrefixIndex } from '../src/plugins/approx-prefix-cache-producer/prefix-index.js';
import { ReferencePrefixIndex } from '../test/helpers/reference-prefix-index.js';
import { seededRandom } from '../src/scheduling/random.js';

export interface PrefixRow {
  chain4kbUs: number;
  compactChurnUs: number;
  referenceChurnUs: number;
}

export async function runPrefixBench(pods = 64, capacity = 2048): Promise<PrefixRow> {
  const prompt = new TextEncoder().encode('Sentence: tell me more about the topic, precisely and with sources. '.repeat(64).slice(0, 4096));
  const seed = xxh64(new TextEncoder().encode('meta-llama/Llama-3.1-8B-Instruct'));
  const random = seededRandom(3);
  const shared = Array.from({ length: 16 }, () => Math.floor(random.next() * 2 ** 53));
  const hashes = new Float64Array(64);
  const next = () => {
    hashes.set(shared);
    for (let i = 16; i < 64; i++) hashes[i] = Math.floor(random.next() * 2 ** 53);
    return hashes;
  };
  const names = Array.from({ length: pods }, (_, i) => `pod-${i}`);
  const compact = new PrefixIndex();
  const reference = new ReferencePrefixIndex();
  const position = new Int32Array(pods).fill(0);
  const matched = new Int32Array(pods);
  let k = 0;
  const compactOne = () => {
    const h = next();
    compact.countMatches(h, position, matched);
    compact.add(names[k++ % pods]!, h, capacity);
  };
  const referenceOne = () => {
    const h = next();
    for (let b = 0; b < h.length; b++) {
      const holders = reference.holders(h[b]!);
      if (!holders) break;
      for (const id of holders) matched[position[id]!]!++;
    }
    reference.add(names[k++ % pods]!, h, capacity);
  };
  for (let i = 0; i < pods * capacity / 24; i++) (compactOne(), referenceOne()); // both full and evicting
  const bench = new Bench({ time: 1000, warmupTime: 200 });
  bench.add('chain', () => void chainHashes(prompt, 64, 256, seed));
  bench.add('compact', compactOne);
  bench.add('reference', referenceOne);
  await bench.run();
  const mean = (name: string) => (bench.getTask(name)!.result as unknown as { latency: { mean: number } }).latency.mean * 1000;
  return { chain4kbUs: mean('chain'), compactChurnUs: mean('compact'), referenceChurnUs: mean('reference') };
}
