/**
 * The approximate prefix-cache index: block hash → endpoints believed to hold it, plus one LRU per
 * endpoint whose evictions take the endpoint out of the hash's holder list.
 *
 * The LRU is "second chance": a hit only stamps the entry (one Map lookup, no reordering); recency is
 * settled at eviction, when a stamped entry at the head is moved to the tail instead of being evicted.
 * Learning runs on every request's dozens of blocks, evictions are rare, so this keeps the hot path cheap;
 * the price is that entries refreshed between two evictions keep their scan order, not their exact age.
 */
interface Slot {
  /** Tick when the entry was last (re)inserted at the tail. */
  placed: number;
  /** Tick of the latest hit. */
  used: number;
}

export class PrefixIndex {
  /** Holder lists hold endpoint ids (see idOf): short arrays of small integers, cheap to walk. */
  readonly #holders = new Map<number, number[]>();
  readonly #lrus = new Map<string, Map<number, Slot>>();
  readonly #ids = new Map<string, number>();
  #tick = 0;

  /** A small integer standing for an endpoint key, stable while the endpoint is indexed. */
  idOf(endpointKey: string): number | undefined {
    return this.#ids.get(endpointKey);
  }

  /** One more than the largest id handed out: the size of an id-indexed table. */
  get idLimit(): number {
    return this.#nextId;
  }

  #nextId = 0;
  readonly #freeIds: number[] = [];

  /** Records that `endpointKey` now holds `hashes`, evicting its least recently used blocks beyond `capacity`. */
  add(endpointKey: string, hashes: ArrayLike<number>, capacity: number): void {
    let lru = this.#lrus.get(endpointKey);
    if (!lru) {
      lru = new Map();
      this.#lrus.set(endpointKey, lru);
      this.#ids.set(endpointKey, this.#freeIds.pop() ?? this.#nextId++);
    }
    const id = this.#ids.get(endpointKey)!;
    const tick = ++this.#tick;
    for (let i = 0; i < hashes.length; i++) {
      const h = hashes[i]!;
      const slot = lru.get(h);
      if (slot) {
        slot.used = tick;
        continue;
      }
      lru.set(h, { placed: tick, used: tick });
      const list = this.#holders.get(h);
      if (list) list.push(id);
      else this.#holders.set(h, [id]);
    }
    this.#evict(id, lru, capacity);
  }

  /** Ids of the endpoints holding `hash`. */
  holders(hash: number): readonly number[] | undefined {
    return this.#holders.get(hash);
  }

  /** Forgets an endpoint that left the pool. */
  removeEndpoint(endpointKey: string): void {
    const lru = this.#lrus.get(endpointKey);
    const id = this.#ids.get(endpointKey);
    if (!lru || id === undefined) return;
    for (const h of lru.keys()) this.#unhold(h, id);
    this.#lrus.delete(endpointKey);
    this.#ids.delete(endpointKey);
    this.#freeIds.push(id);
  }

  /** Distinct hashes indexed. */
  get size(): number {
    return this.#holders.size;
  }

  blocksHeldBy(endpointKey: string): number {
    return this.#lrus.get(endpointKey)?.size ?? 0;
  }

  #evict(id: number, lru: Map<number, Slot>, capacity: number): void {
    while (lru.size > capacity) {
      const [h, slot] = lru.entries().next().value as [number, Slot];
      lru.delete(h);
      if (slot.used > slot.placed) {
        slot.placed = slot.used; // second chance: used since it was placed, so it goes to the tail
        lru.set(h, slot);
      } else {
        this.#unhold(h, id);
      }
    }
  }

  #unhold(hash: number, id: number): void {
    const list = this.#holders.get(hash);
    if (!list) return;
    const i = list.indexOf(id);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#holders.delete(hash);
  }
}
