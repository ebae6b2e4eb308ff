/**
 * A paged KV cache with prefix caching, as vLLM keeps it: blocks of `blockTokens` tokens identified by the
 * hash chain of the prompt; blocks held by running requests cannot be evicted, freed ones stay cached (LRU)
 * until space is needed. A finished request frees its blocks tail first, as vLLM does, so a prompt's last
 * blocks are evicted before its first ones and what stays cached is still a usable prefix.
 */
export class KvCache {
  /** Cached but unreferenced blocks, oldest first (a Map keeps insertion order). */
  readonly #free = new Map<number, true>();
  /** Blocks referenced by running requests, with reference counts. */
  readonly #held = new Map<number, number>();
  /** Held blocks that a reset took out of the prefix cache: they hold memory but match nothing, and leave when released. */
  readonly #detached = new Set<number>();
  /** Blocks held that belong to no prefix (output tokens, partial blocks). */
  #anonymous = 0;

  /** `onEvict` hears of every cached block the cache drops to make room (vLLM's BlockRemoved). */
  constructor(
    readonly numBlocks: number,
    readonly onEvict?: (hash: number) => void,
  ) {}

  get usedBlocks(): number {
    return this.#held.size + this.#anonymous;
  }

  /** Blocks a new request could match: held or free, and not taken out by a reset. */
  get cachedBlocks(): number {
    return this.#held.size - this.#detached.size + this.#free.size;
  }

  /** Is the block in the prefix cache? */
  has(hash: number): boolean {
    return this.#free.has(hash) || (this.#held.has(hash) && !this.#detached.has(hash));
  }

  /** Leading prompt blocks already in the cache (held or free). */
  cachedPrefix(hashes: ArrayLike<number>): number {
    let n = 0;
    while (n < hashes.length && this.has(hashes[n]!)) n++;
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
      this.#detached.delete(h); // computed again for this request: cached again
      this.#held.set(h, (this.#held.get(h) ?? 0) + 1);
    }
    this.#anonymous += extra;
    this.#evictToFit();
  }

  release(hashes: ArrayLike<number>, extra: number): void {
    for (let i = hashes.length - 1; i >= 0; i--) {
      const h = hashes[i]!;
      const refs = (this.#held.get(h) ?? 1) - 1;
      if (refs > 0) {
        this.#held.set(h, refs);
      } else {
        this.#held.delete(h);
        if (!this.#detached.delete(h)) this.#free.set(h, true);
      }
    }
    this.#anonymous = Math.max(0, this.#anonymous - extra);
    this.#evictToFit();
  }

  /**
   * Empties the prefix cache (vLLM's reset_prefix_cache, or a restart): free blocks are dropped and held
   * ones stay allocated to their requests but match nothing any more. No per-block eviction is reported.
   */
  reset(): void {
    this.#free.clear();
    for (const h of this.#held.keys()) this.#detached.add(h);
  }

  #evictToFit(): void {
    while (this.usedBlocks + this.#free.size > this.numBlocks && this.#free.size > 0) {
      const h = this.#free.keys().next().value as number;
      this.#free.delete(h);
      this.onEvict?.(h);
    }
  }
}
