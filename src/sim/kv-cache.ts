/**
 * A paged KV cache with prefix caching, as vLLM keeps it: blocks of `blockTokens` tokens identified by the
 * hash chain of the prompt; blocks held by running requests cannot be evicted, freed ones stay cached (LRU)
 * until space is needed.
 */
export class KvCache {
  /** Cached but unreferenced blocks, oldest first (a Map keeps insertion order). */
  readonly #free = new Map<number, true>();
  /** Blocks referenced by running requests, with reference counts. */
  readonly #held = new Map<number, number>();
  /** Blocks held that belong to no prefix (output tokens, partial blocks). */
  #anonymous = 0;

  constructor(readonly numBlocks: number) {}

  get usedBlocks(): number {
    return this.#held.size + this.#anonymous;
  }

  /** Leading prompt blocks already in the cache (held or free). */
  cachedPrefix(hashes: ArrayLike<number>): number {
    let n = 0;
    while (n < hashes.length && (this.#held.has(hashes[n]!) || this.#free.has(hashes[n]!))) n++;
    return n;
  }

  /** Can `hashes` plus `extra` anonymous blocks be held now? Free (cached, unreferenced) blocks can be evicted. */
  canHold(hashes: ArrayLike<number>, extra: number): boolean {
    let needed = extra;
    for (let i = 0; i < hashes.length; i++) if (!this.#held.has(hashes[i]!)) needed++;
    return this.usedBlocks + needed <= this.numBlocks;
  }

  hold(hashes: ArrayLike<number>, extra: number): void {
    for (let i = 0; i < hashes.length; i++) {
      const h = hashes[i]!;
      this.#free.delete(h);
      this.#held.set(h, (this.#held.get(h) ?? 0) + 1);
    }
    this.#anonymous += extra;
    this.#evictToFit();
  }

  release(hashes: ArrayLike<number>, extra: number): void {
    for (let i = 0; i < hashes.length; i++) {
      const h = hashes[i]!;
      const refs = (this.#held.get(h) ?? 1) - 1;
      if (refs > 0) {
        this.#held.set(h, refs);
      } else {
        this.#held.delete(h);
        this.#free.set(h, true);
      }
    }
    this.#anonymous = Math.max(0, this.#anonymous - extra);
    this.#evictToFit();
  }

  #evictToFit(): void {
    while (this.usedBlocks + this.#free.size > this.numBlocks && this.#free.size > 0) {
      this.#free.delete(this.#free.keys().next().value as number);
    }
  }
}
