import { test } from 'node:test';
import assert from 'node:assert/strict';
import xxhash from 'xxhash-wasm';
import { chainHashes, hashKey, xxh64 } from '../../src/plugins/approx-prefix-cache-producer/xxh64.js';
import { seededRandom } from '../../src/scheduling/random.js';

const { h64Raw } = await xxhash();
const toBig = ([h, l]: [number, number]) => (BigInt(h) << 32n) | BigInt(l);
const randomBytes = (n: number, seed: number) => {
  const r = seededRandom(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r.next() * 256));
};

test('xxh64 matches the reference implementation on every length from 0 to 300', () => {
  for (let len = 0; len <= 300; len++) {
    const bytes = randomBytes(len, len + 1);
    assert.equal(toBig(xxh64(bytes)), h64Raw(bytes, 0n), `length ${len}`);
  }
  const all255 = new Uint8Array(100).fill(255);
  assert.equal(toBig(xxh64(all255)), h64Raw(all255, 0n), 'carry-heavy input');
});

test('the chain is xxh64(block ‖ little-endian previous hash), partial last block included', () => {
  const cases = [
    { len: 64 * 3, block: 64 },
    { len: 64 * 3 + 10, block: 64 },
    { len: 6, block: 4 },
    { len: 3, block: 4 },
    { len: 1000, block: 16 },
  ];
  for (const c of cases) {
    const bytes = randomBytes(c.len, c.len);
    const seed = xxh64(new TextEncoder().encode('model-a' + 'salt'));
    const got = chainHashes(bytes, c.block, 1000, seed);
    const want: number[] = [];
    if (c.len >= c.block) {
      let prev = toBig(seed);
      for (let off = 0; off < c.len; off += c.block) {
        const block = bytes.subarray(off, Math.min(off + c.block, c.len));
        const buf = new Uint8Array(block.length + 8);
        buf.set(block);
        new DataView(buf.buffer).setBigUint64(block.length, prev, true);
        prev = h64Raw(buf, 0n);
        want.push(hashKey(Number(prev >> 32n), Number(prev & 0xffffffffn)));
      }
    }
    assert.deepEqual(Array.from(got), want, JSON.stringify(c));
  }
});

test('maxBlocks caps the chain', () => {
  const bytes = randomBytes(64 * 10 + 5, 9);
  assert.equal(chainHashes(bytes, 64, 4, [0, 0]).length, 4);
  assert.equal(chainHashes(bytes, 64, 100, [0, 0]).length, 11);
});

test('WebAssembly memory stays bounded: long chains run in segments, long seed texts hash in JS, results unchanged', async () => {
  const { WASM_WINDOW_BYTES, wasmMemoryBytes } = await import('../../src/plugins/approx-prefix-cache-producer/xxh64.js');
  const long = randomBytes(3 * WASM_WINDOW_BYTES + 1234, 99);
  assert.equal(toBig(xxh64(long)), h64Raw(long, 0n), 'xxh64 over the window');
  for (const len of [WASM_WINDOW_BYTES + 1, WASM_WINDOW_BYTES + 31, WASM_WINDOW_BYTES + 37]) {
    const b = long.subarray(0, len);
    assert.equal(toBig(xxh64(b)), h64Raw(b, 0n), `length ${len}`);
  }
  const seed = xxh64(new TextEncoder().encode('m'));
  const block = 64;
  const got = chainHashes(long, block, Infinity, seed);
  assert.equal(got.length, Math.ceil(long.length / block));
  // The segmented chain equals the chain computed block by block with the reference.
  let prev = toBig(seed);
  for (let i = 0, off = 0; off < long.length; i++, off += block) {
    const piece = long.subarray(off, Math.min(off + block, long.length));
    const buf = new Uint8Array(piece.length + 8);
    buf.set(piece);
    new DataView(buf.buffer).setBigUint64(piece.length, prev, true);
    prev = h64Raw(buf, 0n);
    if (i % 997 === 0 || off + block >= long.length) assert.equal(got[i], hashKey(Number(prev >> 32n), Number(prev & 0xffffffffn)), `block ${i}`);
  }
  assert.ok(wasmMemoryBytes() <= WASM_WINDOW_BYTES + 128 * 1024, `linear memory ${wasmMemoryBytes()} bytes after hashing ${long.length} bytes`);
});
