/**
 * The approximate prefix-cache index: block hash → endpoints believed to hold it, plus one LRU per
 * endpoint (a Map in insertion order) whose evictions take the endpoint out of the hash's holder set.
 */
export class PrefixIndex {
  readonly #holders = new Map<number, Set<string>>();
  readonly #lrus = new Map<string, Map<number, true>>();

  /** Records that `endpointKey` now holds `hashes`, evicting its oldest blocks beyond `capacity`. */
  add(endpointKey: string, hashes: ArrayLike<number>, capacity: number): void {
    let lru = this.#lrus.get(endpointKey);
    if (!lru) {
      lru = new Map();
      this.#lrus.set(endpointKey, lru);
    }
    for (let i = 0; i < hashes.length; i++) {
      const h = hashes[i]!;
      if (lru.delete(h)) {
        lru.set(h, true); // refresh recency
        continue;
      }
      lru.set(h, true);
      let set = this.#holders.get(h);
      if (!set) {
        set = new Set();
        this.#holders.set(h, set);
      }
      set.add(endpointKey);
    }
    while (lru.size > capacity) {
      const oldest = lru.keys().next().value as number;
      lru.delete(oldest);
      this.#unhold(oldest, endpointKey);
    }
  }

  holders(hash: number): ReadonlySet<string> | undefined {
    return this.#holders.get(hash);
  }

  /** Forgets an endpoint that left the pool. */
  removeEndpoint(endpointKey: string): void {
    const lru = this.#lrus.get(endpointKey);
    if (!lru) return;
    for (const h of lru.keys()) this.#unhold(h, endpointKey);
    this.#lrus.delete(endpointKey);
  }

  /** Distinct hashes indexed. */
  get size(): number {
    return this.#holders.size;
  }

  blocksHeldBy(endpointKey: string): number {
    return this.#lrus.get(endpointKey)?.size ?? 0;
  }

  #unhold(hash: number, endpointKey: string): void {
    const set = this.#holders.get(hash);
    if (!set) return;
    set.delete(endpointKey);
    if (set.size === 0) this.#holders.delete(hash);
  }
}
