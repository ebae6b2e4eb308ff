/**
 * The prefix chain (approx-prefix-cache-producer): the WebAssembly function assembled in xxh64.ts against
 * the same chain over xxhash-wasm's `h64Raw` (one call per block). Both give the same keys (checked here
 * before timing); the table says which to keep.
 */
import { Bench } from 'tinybench';
import xxhash from 'xxhash-wasm';
import { chainHashes, hashKey } from '../src/plugins/approx-prefix-cache-producer/xxh64.js';

export interface XxhashRow {
  promptKB: number;
  blocks: number;
  handUs: number;
  libraryUs: number;
}

export async function runXxhashBench(sizesKB = [4, 400]): Promise<XxhashRow[]> {
  const { h64Raw } = await xxhash();
  const blockSize = 64;
  const chainWithLibrary = (input: Uint8Array, maxBlocks: number, seed: bigint): Float64Array => {
    const usable = Math.min(input.length, blockSize * maxBlocks);
    if (input.length < blockSize) return new Float64Array(0);
    const count = Math.ceil(usable / blockSize);
    const keys = new Float64Array(count);
    const scratch = new Uint8Array(blockSize + 8);
    const view = new DataView(scratch.buffer);
    let prev = seed;
    for (let i = 0; i < count; i++) {
      const block = input.subarray(i * blockSize, Math.min(usable, (i + 1) * blockSize));
      scratch.set(block, 0);
      view.setBigUint64(block.length, prev, true);
      prev = h64Raw(scratch.subarray(0, block.length + 8));
      keys[i] = hashKey(Number(prev >> 32n), Number(prev & 0xffffffffn));
    }
    return keys;
  };
  const rows: XxhashRow[] = [];
  for (const kb of sizesKB) {
    const input = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(Math.ceil((kb * 1024) / 45))).subarray(0, kb * 1024);
    const maxBlocks = Math.ceil(input.length / blockSize);
    const seed: [number, number] = [0x1234, 0x5678];
    const a = chainHashes(input, blockSize, maxBlocks, seed);
    const b = chainWithLibrary(input, maxBlocks, (BigInt(seed[0]) << 32n) | BigInt(seed[1]));
    if (a.length !== b.length || a.some((k, i) => k !== b[i])) throw new Error('xxhash-wasm chain disagrees with the assembled one');
    const bench = new Bench({ time: 500, warmupTime: 100 });
    bench.add('hand', () => chainHashes(input, blockSize, maxBlocks, seed));
    bench.add('library', () => chainWithLibrary(input, maxBlocks, 0x123400005678n));
    await bench.run();
    const [hand, library] = bench.tasks.map((t) => (t.result as unknown as { latency: { mean: number } }).latency.mean * 1000);
    rows.push({ promptKB: kb, blocks: a.length, handUs: hand!, libraryUs: library! });
  }
  return rows;
}
