/**
 * llm-d's block keys (`cbor-fnv`, its default): the EPP recomputes every KV block's key from the token ids,
 * so it never depends on the engine's own hash function or seed. `init = FNV-64a(hashSeed)`,
 * `root = H(init, null, model)`, `key_i = H(key_{i-1}, tokens_i, extras_i)`, where `H(p, t, e)` is FNV-64a
 * over the canonical CBOR of the array `[p, t, e]`. Only full blocks have keys.
 *
 * FNV-64a runs on two 32-bit halves (no BigInt on the hot path); keys come out as bigint.
 */

const PRIME_LO = 0x1b3; // FNV-64 prime = 2^40 + 0x1b3
const BASIS_HI = 0xcbf29ce4;
const BASIS_LO = 0x84222325;
const TWO32 = 4294967296;

/** A running FNV-64a state. */
class Fnv64a {
  hi = BASIS_HI;
  lo = BASIS_LO;

  reset(): void {
    this.hi = BASIS_HI;
    this.lo = BASIS_LO;
  }

  byte(b: number): void {
    const lo = (this.lo ^ b) >>> 0;
    // (hi·2^32 + lo) · (2^40 + 0x1b3) mod 2^64
    const t = lo * PRIME_LO;
    const carry = Math.floor(t / TWO32);
    this.lo = t >>> 0;
    this.hi = (this.hi * PRIME_LO + carry + ((lo << 8) >>> 0)) >>> 0;
  }

  bytes(b: Uint8Array, n = b.length): void {
    for (let i = 0; i < n; i++) this.byte(b[i]!);
  }

  get value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
}

/** Canonical CBOR of the few shapes block keys use, into a reusable buffer. */
class Cbor {
  buf = new Uint8Array(1024);
  n = 0;

  #room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  /** Major type `major` with argument `v` (a non-negative integer below 2^53), shortest form. */
  head(major: number, v: number): void {
    this.#room(9);
    const m = major << 5;
    const b = this.buf;
    if (v < 24) b[this.n++] = m | v;
    else if (v < 0x100) (b[this.n++] = m | 24), (b[this.n++] = v);
    else if (v < 0x10000) (b[this.n++] = m | 25), (b[this.n++] = v >>> 8), (b[this.n++] = v & 0xff);
    else if (v < TWO32) {
      b[this.n++] = m | 26;
      b[this.n++] = v >>> 24;
      b[this.n++] = (v >>> 16) & 0xff;
      b[this.n++] = (v >>> 8) & 0xff;
      b[this.n++] = v & 0xff;
    } else this.u64(m, Math.floor(v / TWO32), v >>> 0);
  }

  /** An unsigned 64-bit integer given as halves, shortest form. */
  uint(hi: number, lo: number): void {
    if (hi === 0) return this.head(0, lo);
    this.#room(9);
    this.u64(0, hi, lo);
  }

  u64(m: number, hi: number, lo: number): void {
    const b = this.buf;
    b[this.n++] = m | 27;
    for (const w of [hi, lo]) {
      b[this.n++] = w >>> 24;
      b[this.n++] = (w >>> 16) & 0xff;
      b[this.n++] = (w >>> 8) & 0xff;
      b[this.n++] = w & 0xff;
    }
  }

  text(s: string): void {
    const bytes = new TextEncoder().encode(s);
    this.head(3, bytes.length);
    this.#room(bytes.length);
    this.buf.set(bytes, this.n);
    this.n += bytes.length;
  }

  raw(byte: number): void {
    this.#room(1);
    this.buf[this.n++] = byte;
  }
}

const NULL = 0xf6;

/** A chain position as the full 64-bit key's halves. */
export interface ChainTail {
  readonly hi: number;
  readonly lo: number;
}

/** The index form of a full key (its low 53 bits). */
export const fold53 = (hi: number, lo: number): number => (hi & 0x1fffff) * TWO32 + lo;

export interface BlockKeyOptions {
  readonly blockSize: number;
  readonly hashSeed: string;
}

/** Computes request-side block keys; one instance per producer (it reuses its buffers). */
export class BlockKeyer {
  readonly blockSize: number;
  readonly #init: [number, number];
  readonly #fnv = new Fnv64a();
  readonly #cbor = new Cbor();
  readonly #roots = new Map<string, [number, number]>();

  constructor(o: BlockKeyOptions) {
    if (!(o.blockSize > 0)) throw new Error(`block size must be positive, got ${o.blockSize}`);
    this.blockSize = o.blockSize;
    this.#fnv.reset();
    this.#fnv.bytes(new TextEncoder().encode(o.hashSeed));
    this.#init = [this.#fnv.hi, this.#fnv.lo];
  }

  /** FNV-64a of the seed, as llm-d's chain starts. */
  get init(): bigint {
    return (BigInt(this.#init[0]) << 32n) | BigInt(this.#init[1]);
  }

  /** The chain root for `model`: H(init, null, model). */
  root(model: string): bigint {
    const [hi, lo] = this.#root(model);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /**
   * Keys of the full blocks of `tokens` (from `offset`), chained from `parent` (the model's root when
   * undefined). `saltOnFirst`: the request's cache_salt, an extra of its first block only.
   */
  keys(model: string, tokens: ArrayLike<number>, options: { parent?: bigint; saltOnFirst?: string; offset?: number } = {}): bigint[] {
    const full: bigint[] = [];
    const parent = options.parent === undefined ? undefined : { hi: Number(options.parent >> 32n), lo: Number(options.parent & 0xffffffffn) };
    this.chain(model, tokens, { ...options, parent, onFull: (hi, lo) => full.push((BigInt(hi) << 32n) | BigInt(lo)) });
    return full;
  }

  /**
   * The index's form of the keys: each folded to its low 53 bits (a plain number, so maps need no BigInt;
   * a collision within one index is ~2^-53 per pair), and the chain's last full key to continue from.
   */
  chain(
    model: string,
    tokens: ArrayLike<number>,
    options: { parent?: ChainTail | undefined; saltOnFirst?: string | undefined; offset?: number; onFull?: (hi: number, lo: number) => void } = {},
  ): { keys: Float64Array; tail: ChainTail | undefined } {
    let hi: number;
    let lo: number;
    if (options.parent) ({ hi, lo } = options.parent);
    else [hi, lo] = this.#root(model);
    const bs = this.blockSize;
    const start = options.offset ?? 0;
    const count = Math.max(0, Math.floor((tokens.length - start) / bs));
    const keys = new Float64Array(count);
    // The CBOR of [parent, tokens, extras] is written straight into one buffer sized for the worst case
    // (a 9-byte parent, 5 bytes a token, the salt), then FNV-64a runs over it: no calls per token.
    const salt = options.saltOnFirst ? new TextEncoder().encode(options.saltOnFirst) : undefined;
    const need = 16 + 5 * bs + (salt ? salt.length + 16 : 0);
    if (this.#cbor.buf.length < need) this.#cbor.buf = new Uint8Array(need);
    const buf = this.#cbor.buf;
    for (let k = 0; k < count; k++) {
      const b = start + k * bs;
      let n = 0;
      buf[n++] = 0x83;
      if (hi === 0 && lo < 24) buf[n++] = lo;
      else if (hi === 0) {
        // Parents are hashes: below 2^32 is rare but must still be the shortest form.
        this.#cbor.n = n;
        this.#cbor.uint(hi, lo);
        n = this.#cbor.n;
      } else {
        buf[n++] = 0x1b;
        buf[n++] = hi >>> 24;
        buf[n++] = (hi >>> 16) & 0xff;
        buf[n++] = (hi >>> 8) & 0xff;
        buf[n++] = hi & 0xff;
        buf[n++] = lo >>> 24;
        buf[n++] = (lo >>> 16) & 0xff;
        buf[n++] = (lo >>> 8) & 0xff;
        buf[n++] = lo & 0xff;
      }
      if (bs < 24) buf[n++] = 0x80 | bs;
      else {
        this.#cbor.n = n;
        this.#cbor.head(4, bs);
        n = this.#cbor.n;
      }
      for (let i = b; i < b + bs; i++) {
        const t = tokens[i]!;
        if (t < 24) buf[n++] = t;
        else if (t < 0x100) (buf[n++] = 0x18), (buf[n++] = t);
        else if (t < 0x10000) (buf[n++] = 0x19), (buf[n++] = t >>> 8), (buf[n++] = t & 0xff);
        else (buf[n++] = 0x1a), (buf[n++] = t >>> 24), (buf[n++] = (t >>> 16) & 0xff), (buf[n++] = (t >>> 8) & 0xff), (buf[n++] = t & 0xff);
      }
      if (k === 0 && salt) {
        this.#cbor.n = n;
        this.#cbor.head(4, 1);
        this.#cbor.head(5, 1);
        this.#cbor.text('Hash');
        this.#cbor.head(3, salt.length);
        buf.set(salt, this.#cbor.n);
        n = this.#cbor.n + salt.length;
      } else buf[n++] = NULL;
      // FNV-64a on four 16-bit limbs (small-integer arithmetic only): XOR the byte into the low limb, then
      // multiply by the prime 2^40 + 0x1b3 (0x1b3 on every limb, plus the limbs two places up shifted by 8).
      let v0 = BASIS_LO & 0xffff;
      let v1 = BASIS_LO >>> 16;
      let v2 = BASIS_HI & 0xffff;
      let v3 = BASIS_HI >>> 16;
      for (let i = 0; i < n; i++) {
        v0 ^= buf[i]!;
        const t0 = v0 * 0x1b3;
        let t1 = v1 * 0x1b3;
        let t2 = v2 * 0x1b3 + (v0 << 8);
        const t3 = v3 * 0x1b3 + (v1 << 8);
        t1 += t0 >>> 16;
        t2 += t1 >>> 16;
        v0 = t0 & 0xffff;
        v1 = t1 & 0xffff;
        v2 = t2 & 0xffff;
        v3 = (t3 + (t2 >>> 16)) & 0xffff;
      }
      hi = ((v3 << 16) | v2) >>> 0;
      lo = ((v1 << 16) | v0) >>> 0;
      keys[k] = (hi & 0x1fffff) * TWO32 + lo;
      options.onFull?.(hi, lo);
    }
    return { keys, tail: count > 0 ? { hi, lo } : options.parent };
  }

  #root(model: string): [number, number] {
    let r = this.#roots.get(model);
    if (!r) {
      const c = this.#cbor;
      c.n = 0;
      c.raw(0x83);
      c.uint(this.#init[0], this.#init[1]);
      c.raw(NULL);
      c.text(model);
      this.#fnv.reset();
      this.#fnv.bytes(c.buf, c.n);
      r = [this.#fnv.hi, this.#fnv.lo];
      if (this.#roots.size > 1024) this.#roots.clear();
      this.#roots.set(model, r);
    }
    return r;
  }
}
