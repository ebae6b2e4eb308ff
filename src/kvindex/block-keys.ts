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
    let [hi, lo] = options.parent === undefined ? this.#root(model) : [Number(options.parent >> 32n), Number(options.parent & 0xffffffffn)];
    const out: bigint[] = [];
    const bs = this.blockSize;
    const start = options.offset ?? 0;
    const c = this.#cbor;
    for (let b = start; b + bs <= tokens.length; b += bs) {
      c.n = 0;
      c.raw(0x83);
      c.uint(hi, lo);
      c.head(4, bs);
      for (let i = b; i < b + bs; i++) c.head(0, tokens[i]!);
      const salt = b === start && options.saltOnFirst ? options.saltOnFirst : undefined;
      if (salt === undefined) c.raw(NULL);
      else {
        c.head(4, 1);
        c.head(5, 1);
        c.text('Hash');
        c.text(salt);
      }
      this.#fnv.reset();
      this.#fnv.bytes(c.buf, c.n);
      hi = this.#fnv.hi;
      lo = this.#fnv.lo;
      out.push((BigInt(hi) << 32n) | BigInt(lo));
    }
    return out;
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
