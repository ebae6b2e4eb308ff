/**
 * The prefix chain in WebAssembly, assembled here from a few dozen opcodes (no toolchain, no binary blob):
 * native i64 multiply and rotate make one 72-byte block hash a few dozen instructions, and the whole chain
 * runs in one call. Layout of linear memory per call: [input bytes | output hashes (8 B each) | scratch].
 */

const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

// Opcodes.
const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, CALL = 0x10, SELECT = 0x1b, VOID = 0x40;
const GET = 0x20, SET = 0x21, TEE = 0x22;
const I64_LOAD = 0x29, I64_LOAD8_U = 0x31, I64_LOAD32_U = 0x35, I64_STORE = 0x37;
const I32_CONST = 0x41, I64_CONST = 0x42;
const I32_LT_U = 0x49, I32_GT_U = 0x4b, I32_GE_U = 0x4f, I32_ADD = 0x6a, I32_SUB = 0x6b;
const I64_ADD = 0x7c, I64_MUL = 0x7e, I64_OR = 0x84, I64_XOR = 0x85, I64_SHL = 0x86, I64_SHR_U = 0x88, I64_ROTL = 0x89;
const I64_EXTEND_I32_U = 0xad;
const MEMORY_COPY = [0xfc, 0x0a, 0x00, 0x00];
const I32 = 0x7f, I64 = 0x7e;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(value: bigint): number[] {
  let v = BigInt.asIntN(64, value);
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const get = (i: number) => [GET, i];
const set = (i: number) => [SET, i];
const k64 = (v: bigint) => [I64_CONST, ...sleb(v)];
const k32 = (v: number) => [I32_CONST, ...sleb(BigInt(v))];
const load64 = (addr: number[], offset = 0) => [...addr, I64_LOAD, 0, ...uleb(offset)];
/** acc = rotl(acc + input * P2, 31) * P1 */
const round = (acc: number[], input: number[]) => [...acc, ...input, ...k64(P2), I64_MUL, I64_ADD, ...k64(31n), I64_ROTL, ...k64(P1), I64_MUL];
/** while (!exit) body — `exit` and `body` are expressions; br depth 1 leaves, 0 repeats. */
const whileNot = (exit: number[], body: number[]) => [BLOCK, VOID, LOOP, VOID, ...exit, BR_IF, 1, ...body, BR, 0, END, END];

function xxh64Body(): number[] {
  // params: 0 ptr, 1 len; locals: 2 end, 3 limit (i32); 4 v1, 5 v2, 6 v3, 7 v4, 8 h (i64)
  const [p, len, end, limit, v1, v2, v3, v4, h] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const merge = (v: number) => [...get(h), ...round(k64(0n), get(v)), I64_XOR, ...k64(P1), I64_MUL, ...k64(P4), I64_ADD, ...set(h)];
  const code = [
    ...get(p), ...get(len), I32_ADD, ...set(end),
    ...get(len), ...k32(32), I32_GE_U, IF, VOID,
    ...k64(P1 + P2), ...set(v1), ...k64(P2), ...set(v2), ...k64(0n), ...set(v3), ...k64(-P1), ...set(v4),
    ...get(end), ...k32(32), I32_SUB, ...set(limit),
    ...whileNot([...get(p), ...get(limit), I32_GT_U], [
      ...round(get(v1), load64(get(p), 0)), ...set(v1),
      ...round(get(v2), load64(get(p), 8)), ...set(v2),
      ...round(get(v3), load64(get(p), 16)), ...set(v3),
      ...round(get(v4), load64(get(p), 24)), ...set(v4),
      ...get(p), ...k32(32), I32_ADD, ...set(p),
    ]),
    ...get(v1), ...k64(1n), I64_ROTL, ...get(v2), ...k64(7n), I64_ROTL, I64_ADD,
    ...get(v3), ...k64(12n), I64_ROTL, I64_ADD, ...get(v4), ...k64(18n), I64_ROTL, I64_ADD, ...set(h),
    ...merge(v1), ...merge(v2), ...merge(v3), ...merge(v4),
    ELSE, ...k64(P5), ...set(h), END,
    ...get(h), ...get(len), I64_EXTEND_I32_U, I64_ADD, ...set(h),
    // 8-byte lanes
    ...whileNot([...get(p), ...k32(8), I32_ADD, ...get(end), I32_GT_U], [
      ...get(h), ...round(k64(0n), load64(get(p))), I64_XOR, ...k64(27n), I64_ROTL, ...k64(P1), I64_MUL, ...k64(P4), I64_ADD, ...set(h),
      ...get(p), ...k32(8), I32_ADD, ...set(p),
    ]),
  ];
  code.push(
    // one 4-byte lane, when it fits
    ...get(p), ...k32(4), I32_ADD, ...get(end), I32_GT_U, IF, VOID, ELSE,
    ...get(h), ...get(p), I64_LOAD32_U, 0, 0, ...k64(P1), I64_MUL, I64_XOR, ...k64(23n), I64_ROTL, ...k64(P2), I64_MUL, ...k64(P3), I64_ADD, ...set(h),
    ...get(p), ...k32(4), I32_ADD, ...set(p),
    END,
    // bytes
    ...whileNot([...get(p), ...get(end), I32_GE_U], [
      ...get(h), ...get(p), I64_LOAD8_U, 0, 0, ...k64(P5), I64_MUL, I64_XOR, ...k64(11n), I64_ROTL, ...k64(P1), I64_MUL, ...set(h),
      ...get(p), ...k32(1), I32_ADD, ...set(p),
    ]),
    // avalanche
    ...get(h), ...get(h), ...k64(33n), I64_SHR_U, I64_XOR, ...k64(P2), I64_MUL, ...set(h),
    ...get(h), ...get(h), ...k64(29n), I64_SHR_U, I64_XOR, ...k64(P3), I64_MUL, ...set(h),
    ...get(h), ...get(h), ...k64(32n), I64_SHR_U, I64_XOR,
  );
  return [2, 2, I32, 5, I64, ...code, END];
}

function chainBody(): number[] {
  // params: 0 ptr, 1 usable, 2 block, 3 seedHi, 4 seedLo, 5 out, 6 scratch; locals: 7 off, 8 n, 9 count (i32), 10 prev (i64)
  const [ptr, usable, block, seedHi, seedLo, out, scratch, off, n, count, prev] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const code = [
    ...get(seedHi), I64_EXTEND_I32_U, ...k64(32n), I64_SHL, ...get(seedLo), I64_EXTEND_I32_U, I64_OR, ...set(prev),
    ...whileNot([...get(off), ...get(usable), I32_GE_U], [
      // n = min(block, usable - off)
      ...get(block), ...get(usable), ...get(off), I32_SUB, TEE, n, ...get(block), ...get(n), I32_LT_U, SELECT, ...set(n),
      ...get(scratch), ...get(ptr), ...get(off), I32_ADD, ...get(n), ...MEMORY_COPY,
      ...get(scratch), ...get(n), I32_ADD, ...get(prev), I64_STORE, 0, 0,
      ...get(scratch), ...get(n), ...k32(8), I32_ADD, CALL, 0, ...set(prev),
      ...get(out), ...get(count), ...k32(8), 0x6c /* i32.mul */, I32_ADD, ...get(prev), I64_STORE, 0, 0,
      ...get(off), ...get(block), I32_ADD, ...set(off),
      ...get(count), ...k32(1), I32_ADD, ...set(count),
    ]),
    ...get(count),
  ];
  return [2, 3, I32, 1, I64, ...code, END];
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

function assemble(): Uint8Array {
  const types = vec([
    [0x60, ...vec([[I32], [I32]]), ...vec([[I64]])],
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([[I32]])],
  ]);
  const bodies = [xxh64Body(), chainBody()].map((b) => [...uleb(b.length), ...b]);
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(3, vec([[0], [1]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...name('memory'), 0x02, 0], [...name('xxh64'), 0x00, 0], [...name('chain'), 0x00, 1]])),
    ...section(10, vec(bodies)),
  ]);
}

// The global WebAssembly API, typed for the few members used here (the project's `lib` has no DOM types).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

interface Exports {
  memory: WasmMemory;
  xxh64(ptr: number, len: number): bigint;
  chain(ptr: number, usable: number, block: number, seedHi: number, seedLo: number, out: number, scratch: number): number;
}

const instance = new WebAssembly.Instance(new WebAssembly.Module(assemble()), {});
const wasm = instance.exports as unknown as Exports;
let bytes = new Uint8Array(wasm.memory.buffer);
let words = new Uint32Array(wasm.memory.buffer);

/**
 * Linear memory can only grow, so every call works in a window of at most this many input bytes: a long
 * prompt's chain runs in segments, a long seed text is hashed in JS. Memory stays near 1 MiB for good
 * (more only for a configured block larger than that).
 */
export const WASM_WINDOW_BYTES = 1024 * 1024;

function ensureMemory(size: number): void {
  if (size <= wasm.memory.buffer.byteLength) return;
  wasm.memory.grow(Math.ceil((size - wasm.memory.buffer.byteLength) / 65536));
  bytes = new Uint8Array(wasm.memory.buffer);
  words = new Uint32Array(wasm.memory.buffer);
}

/** Bytes of WebAssembly linear memory in use (it never shrinks; see WASM_WINDOW_BYTES). */
export const wasmMemoryBytes = (): number => wasm.memory.buffer.byteLength;

/** XXH64 (seed 0) as [high, low] uint32 halves. */
export function xxh64(input: Uint8Array): [number, number] {
  if (input.length > WASM_WINDOW_BYTES) return xxh64Js(input);
  ensureMemory(input.length);
  bytes.set(input, 0);
  const h = BigInt.asUintN(64, wasm.xxh64(0, input.length)); // i64 results reach JS signed
  return [Number(h >> 32n), Number(h & 0xffffffffn)];
}

/** A 53-bit key for a 64-bit hash: exact in a double, so it is a cheap Map key. */
export const hashKey = (h: number, l: number): number => h * 0x200000 + (l >>> 11);

/**
 * The prefix chain: for each block of `blockSize` bytes (the trailing partial block too),
 * h_i = xxh64(block ‖ little-endian uint64 h_{i−1}), h_0 = `seed`. Input shorter than one block → none.
 * Returns 53-bit keys (see hashKey); the chain itself runs on the full 64 bits.
 */
export function chainHashes(input: Uint8Array, blockSize: number, maxBlocks: number, seed: readonly [number, number]): Float64Array {
  const usable = Math.min(input.length, blockSize * maxBlocks);
  if (input.length < blockSize || usable === 0) return new Float64Array(0);
  const count = Math.ceil(usable / blockSize);
  const keys = new Float64Array(count);
  // Per segment, memory holds [segment bytes | its hashes (8 B each) | scratch for one block + 8].
  const perSegment = Math.max(1, Math.floor(WASM_WINDOW_BYTES / (blockSize + 8)));
  let [hi, lo] = seed;
  for (let first = 0; first < count; first += perSegment) {
    const from = first * blockSize;
    const to = Math.min(usable, from + perSegment * blockSize);
    const n = Math.ceil((to - from) / blockSize);
    const out = (to - from + 7) & ~7;
    const scratch = out + n * 8;
    ensureMemory(scratch + blockSize + 8);
    bytes.set(input.subarray(from, to), 0);
    wasm.chain(0, to - from, blockSize, hi, lo, out, scratch);
    for (let i = 0, w = out >>> 2; i < n; i++, w += 2) keys[first + i] = hashKey(words[w + 1]!, words[w]!);
    const last = (out >>> 2) + (n - 1) * 2;
    [hi, lo] = [words[last + 1]!, words[last]!];
  }
  return keys;
}

// XXH64 with BigInt, for inputs over the window (rare: a huge cache_salt); the wasm function is the fast path.
const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M64;
const roundBig = (acc: bigint, input: bigint) => (rotl((acc + input * P2) & M64, 31n) * P1) & M64;
const mergeBig = (h: bigint, v: bigint) => (((h ^ roundBig(0n, v)) * P1) & M64) + P4 & M64;

function xxh64Js(input: Uint8Array): [number, number] {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const len = input.length;
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (P1 + P2) & M64, v2 = P2, v3 = 0n, v4 = (-P1) & M64;
    for (; p + 32 <= len; p += 32) {
      v1 = roundBig(v1, view.getBigUint64(p, true));
      v2 = roundBig(v2, view.getBigUint64(p + 8, true));
      v3 = roundBig(v3, view.getBigUint64(p + 16, true));
      v4 = roundBig(v4, view.getBigUint64(p + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M64;
    h = mergeBig(mergeBig(mergeBig(mergeBig(h, v1), v2), v3), v4);
  } else {
    h = P5;
  }
  h = (h + BigInt(len)) & M64;
  for (; p + 8 <= len; p += 8) h = ((rotl(h ^ roundBig(0n, view.getBigUint64(p, true)), 27n) * P1) & M64) + P4 & M64;
  if (p + 4 <= len) {
    h = ((rotl(h ^ ((BigInt(view.getUint32(p, true)) * P1) & M64), 23n) * P2) & M64) + P3 & M64;
    p += 4;
  }
  for (; p < len; p++) h = (rotl(h ^ ((BigInt(input[p]!) * P5) & M64), 11n) * P1) & M64;
  h = ((h ^ (h >> 33n)) * P2) & M64;
  h = ((h ^ (h >> 29n)) * P3) & M64;
  h ^= h >> 32n;
  return [Number(h >> 32n), Number(h & 0xffffffffn)];
}
