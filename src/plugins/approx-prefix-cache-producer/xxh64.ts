/**
 * XXH64 (seed 0) in 32-bit halves. Hand-written because the prefix chain hashes one short block per call
 * and a BigInt library call costs ~1 µs per block (DESIGN.md); this runs the whole chain without BigInt.
 * Results land in the module registers R[0]/R[1] (high/low uint32) to avoid allocating per operation.
 */

/** Result registers [high, low]: a typed array keeps uint32s unboxed (module `let`s would box them). */
const R = new Uint32Array(2);

// Primes as [high, low].
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

/**
 * (ah,al) * (bh,bl) mod 2^64 → R[0],R[1]. Math.imul gives the low 32 bits of each 32×32 product; only al×bl also
 * needs its high half, built from 16-bit pieces so every partial product stays exact in a double.
 */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a1 = al >>> 16, a0 = al & 0xffff, b1 = bl >>> 16, b0 = bl & 0xffff;
  const p0 = a0 * b0, p1 = a0 * b1, p2 = a1 * b0;
  const mid = (p0 >>> 16) + (p1 & 0xffff) + (p2 & 0xffff);
  const hiOfLow = a1 * b1 + (p1 >>> 16) + (p2 >>> 16) + (mid >>> 16);
  R[0] = (hiOfLow + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  R[1] = Math.imul(al, bl) >>> 0;
}

function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = (al + bl) >>> 0;
  R[0] = (ah + bh + (lo < al ? 1 : 0)) >>> 0;
  R[1] = lo;
}

/** Rotate left by r (0 < r < 32). */
function rotl(h: number, l: number, r: number): void {
  R[0] = ((h << r) | (l >>> (32 - r))) >>> 0;
  R[1] = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** acc = rotl(acc + input * P2, 31) * P1 */
function round(acch: number, accl: number, ih: number, il: number): void {
  mul(ih, il, P2H, P2L);
  add(acch, accl, R[0], R[1]);
  rotl(R[0], R[1], 31);
  mul(R[0], R[1], P1H, P1L);
}

/** acc = (acc ^ round(0, v)) * P1 + P4; returns the high half, the low half is in R[1]. */
function mergeRound(acch: number, accl: number, vh: number, vl: number): number {
  round(0, 0, vh, vl);
  mul((acch ^ R[0]) >>> 0, (accl ^ R[1]) >>> 0, P1H, P1L);
  add(R[0], R[1], P4H, P4L);
  return R[0];
}

const u32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

/** XXH64 of `len` bytes of `b` from `off`, seed 0, into R[0]/R[1]. */
export function xxh64Into(b: Uint8Array, off: number, len: number): void {
  const end = off + len;
  let p = off;
  let hh: number, hl: number;
  if (len >= 32) {
    add(P1H, P1L, P2H, P2L);
    let v1h = R[0], v1l = R[1];
    let v2h = P2H, v2l = P2L;
    let v3h = 0, v3l = 0;
    // v4 = -P1 mod 2^64
    let v4h = ~P1H >>> 0, v4l = (~P1L + 1) >>> 0;
    if (v4l === 0) v4h = (v4h + 1) >>> 0;
    const limit = end - 32;
    while (p <= limit) {
      round(v1h, v1l, u32(b, p + 4), u32(b, p)); v1h = R[0]; v1l = R[1];
      round(v2h, v2l, u32(b, p + 12), u32(b, p + 8)); v2h = R[0]; v2l = R[1];
      round(v3h, v3l, u32(b, p + 20), u32(b, p + 16)); v3h = R[0]; v3l = R[1];
      round(v4h, v4l, u32(b, p + 28), u32(b, p + 24)); v4h = R[0]; v4l = R[1];
      p += 32;
    }
    rotl(v1h, v1l, 1); hh = R[0]; hl = R[1];
    rotl(v2h, v2l, 7); add(hh, hl, R[0], R[1]); hh = R[0]; hl = R[1];
    rotl(v3h, v3l, 12); add(hh, hl, R[0], R[1]); hh = R[0]; hl = R[1];
    rotl(v4h, v4l, 18); add(hh, hl, R[0], R[1]); hh = R[0]; hl = R[1];
    hh = mergeRound(hh, hl, v1h, v1l); hl = R[1];
    hh = mergeRound(hh, hl, v2h, v2l); hl = R[1];
    hh = mergeRound(hh, hl, v3h, v3l); hl = R[1];
    hh = mergeRound(hh, hl, v4h, v4l); hl = R[1];
  } else {
    hh = P5H;
    hl = P5L;
  }
  add(hh, hl, 0, len >>> 0); // lengths here are far below 2^32
  hh = R[0]; hl = R[1];
  while (p + 8 <= end) {
    round(0, 0, u32(b, p + 4), u32(b, p));
    hh = (hh ^ R[0]) >>> 0;
    hl = (hl ^ R[1]) >>> 0;
    rotl(hh, hl, 27);
    mul(R[0], R[1], P1H, P1L);
    add(R[0], R[1], P4H, P4L);
    hh = R[0]; hl = R[1];
    p += 8;
  }
  if (p + 4 <= end) {
    mul(0, u32(b, p), P1H, P1L);
    hh = (hh ^ R[0]) >>> 0;
    hl = (hl ^ R[1]) >>> 0;
    rotl(hh, hl, 23);
    mul(R[0], R[1], P2H, P2L);
    add(R[0], R[1], P3H, P3L);
    hh = R[0]; hl = R[1];
    p += 4;
  }
  while (p < end) {
    mul(0, b[p]!, P5H, P5L);
    hh = (hh ^ R[0]) >>> 0;
    hl = (hl ^ R[1]) >>> 0;
    rotl(hh, hl, 11);
    mul(R[0], R[1], P1H, P1L);
    hh = R[0]; hl = R[1];
    p++;
  }
  // Avalanche.
  hl = (hl ^ (hh >>> 1)) >>> 0; // h ^= h >> 33
  mul(hh, hl, P2H, P2L);
  hh = R[0]; hl = R[1];
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0; // h ^= h >> 29
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L);
  hh = R[0]; hl = R[1];
  hl = (hl ^ hh) >>> 0; // h ^= h >> 32
  R[0] = hh;
  R[1] = hl;
}

/** XXH64 as [high, low] uint32 halves. */
export function xxh64(bytes: Uint8Array): [number, number] {
  xxh64Into(bytes, 0, bytes.length);
  return [R[0], R[1]];
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
    ph = R[0];
    pl = R[1];
    out[i] = hashKey(ph, pl);
  }
  return out;
}
