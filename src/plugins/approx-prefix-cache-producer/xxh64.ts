/**
 * XXH64 (seed 0) in 32-bit halves. Hand-written because the prefix chain hashes one short block per call
 * and a BigInt library call costs ~1 µs per block (DESIGN.md); this runs the whole chain without BigInt.
 * Results land in the module registers `H`/`L` (high/low uint32) to avoid allocating per operation.
 */

let H = 0;
let L = 0;

// Primes as [high, low].
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

/** (ah,al) * (bh,bl) mod 2^64 → H,L (16-bit limbs keep every partial product exact in a double). */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a48 = ah >>> 16, a32 = ah & 0xffff, a16 = al >>> 16, a00 = al & 0xffff;
  const b48 = bh >>> 16, b32 = bh & 0xffff, b16 = bl >>> 16, b00 = bl & 0xffff;
  let c00 = a00 * b00;
  let c16 = c00 >>> 16;
  c00 &= 0xffff;
  c16 += a16 * b00;
  let c32 = c16 >>> 16;
  c16 &= 0xffff;
  c16 += a00 * b16;
  c32 += c16 >>> 16;
  c16 &= 0xffff;
  c32 += a32 * b00;
  let c48 = c32 >>> 16;
  c32 &= 0xffff;
  c32 += a16 * b16;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c32 += a00 * b32;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c48 += a48 * b00 + a32 * b16 + a16 * b32 + a00 * b48;
  c48 &= 0xffff;
  H = ((c48 << 16) | c32) >>> 0;
  L = ((c16 << 16) | c00) >>> 0;
}

function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = (al + bl) >>> 0;
  H = (ah + bh + (lo < al ? 1 : 0)) >>> 0;
  L = lo;
}

/** Rotate left by r (0 < r < 32). */
function rotl(h: number, l: number, r: number): void {
  H = ((h << r) | (l >>> (32 - r))) >>> 0;
  L = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** acc = rotl(acc + input * P2, 31) * P1 */
function round(acch: number, accl: number, ih: number, il: number): void {
  mul(ih, il, P2H, P2L);
  add(acch, accl, H, L);
  rotl(H, L, 31);
  mul(H, L, P1H, P1L);
}

const u32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

/** XXH64 of `len` bytes of `b` from `off`, seed 0, into H/L. */
export function xxh64Into(b: Uint8Array, off: number, len: number): void {
  const end = off + len;
  let p = off;
  let hh: number, hl: number;
  if (len >= 32) {
    add(P1H, P1L, P2H, P2L);
    let v1h = H, v1l = L;
    let v2h = P2H, v2l = P2L;
    let v3h = 0, v3l = 0;
    // v4 = -P1 mod 2^64
    let v4h = ~P1H >>> 0, v4l = (~P1L + 1) >>> 0;
    if (v4l === 0) v4h = (v4h + 1) >>> 0;
    const limit = end - 32;
    while (p <= limit) {
      round(v1h, v1l, u32(b, p + 4), u32(b, p)); v1h = H; v1l = L;
      round(v2h, v2l, u32(b, p + 12), u32(b, p + 8)); v2h = H; v2l = L;
      round(v3h, v3l, u32(b, p + 20), u32(b, p + 16)); v3h = H; v3l = L;
      round(v4h, v4l, u32(b, p + 28), u32(b, p + 24)); v4h = H; v4l = L;
      p += 32;
    }
    rotl(v1h, v1l, 1); hh = H; hl = L;
    rotl(v2h, v2l, 7); add(hh, hl, H, L); hh = H; hl = L;
    rotl(v3h, v3l, 12); add(hh, hl, H, L); hh = H; hl = L;
    rotl(v4h, v4l, 18); add(hh, hl, H, L); hh = H; hl = L;
    for (const [vh, vl] of [[v1h, v1l], [v2h, v2l], [v3h, v3l], [v4h, v4l]] as const) {
      round(0, 0, vh, vl);
      hh = (hh ^ H) >>> 0;
      hl = (hl ^ L) >>> 0;
      mul(hh, hl, P1H, P1L);
      add(H, L, P4H, P4L);
      hh = H;
      hl = L;
    }
  } else {
    hh = P5H;
    hl = P5L;
  }
  add(hh, hl, 0, len >>> 0); // lengths here are far below 2^32
  hh = H; hl = L;
  while (p + 8 <= end) {
    round(0, 0, u32(b, p + 4), u32(b, p));
    hh = (hh ^ H) >>> 0;
    hl = (hl ^ L) >>> 0;
    rotl(hh, hl, 27);
    mul(H, L, P1H, P1L);
    add(H, L, P4H, P4L);
    hh = H; hl = L;
    p += 8;
  }
  if (p + 4 <= end) {
    mul(0, u32(b, p), P1H, P1L);
    hh = (hh ^ H) >>> 0;
    hl = (hl ^ L) >>> 0;
    rotl(hh, hl, 23);
    mul(H, L, P2H, P2L);
    add(H, L, P3H, P3L);
    hh = H; hl = L;
    p += 4;
  }
  while (p < end) {
    mul(0, b[p]!, P5H, P5L);
    hh = (hh ^ H) >>> 0;
    hl = (hl ^ L) >>> 0;
    rotl(hh, hl, 11);
    mul(H, L, P1H, P1L);
    hh = H; hl = L;
    p++;
  }
  // Avalanche.
  hl = (hl ^ (hh >>> 1)) >>> 0; // h ^= h >> 33
  mul(hh, hl, P2H, P2L);
  hh = H; hl = L;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0; // h ^= h >> 29
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L);
  hh = H; hl = L;
  hl = (hl ^ hh) >>> 0; // h ^= h >> 32
  H = hh;
  L = hl;
}

/** XXH64 as [high, low] uint32 halves. */
export function xxh64(bytes: Uint8Array): [number, number] {
  xxh64Into(bytes, 0, bytes.length);
  return [H, L];
}

/** A 53-bit key for a 64-bit hash: exact in a double, so it is a cheap Map key. */
export const hashKey = (h: number, l: number): number => h * 0x200000 + (l >>> 11);

/**
 * The prefix chain: for each block of `blockSize` bytes (the trailing partial block too),
 * h_i = xxh64(block ‖ little-endian uint64 h_{i−1}), h_0 = `seed`. Input shorter than one block → none.
 * Returns 53-bit keys (see hashKey); the chain itself runs on the full 64 bits.
 */
export function chainHashes(bytes: Uint8Array, blockSize: number, maxBlocks: number, seed: readonly [number, number]): Float64Array {
  const usable = Math.min(bytes.length, blockSize * maxBlocks);
  if (bytes.length < blockSize || usable === 0) return new Float64Array(0);
  const count = Math.ceil(usable / blockSize);
  const out = new Float64Array(count);
  const scratch = new Uint8Array(blockSize + 8);
  let ph = seed[0];
  let pl = seed[1];
  for (let i = 0; i < count; i++) {
    const start = i * blockSize;
    const len = Math.min(blockSize, usable - start);
    for (let j = 0; j < len; j++) scratch[j] = bytes[start + j]!;
    scratch[len] = pl & 0xff; scratch[len + 1] = (pl >>> 8) & 0xff; scratch[len + 2] = (pl >>> 16) & 0xff; scratch[len + 3] = pl >>> 24;
    scratch[len + 4] = ph & 0xff; scratch[len + 5] = (ph >>> 8) & 0xff; scratch[len + 6] = (ph >>> 16) & 0xff; scratch[len + 7] = ph >>> 24;
    xxh64Into(scratch, 0, len + 8);
    ph = H;
    pl = L;
    out[i] = hashKey(ph, pl);
  }
  return out;
}
