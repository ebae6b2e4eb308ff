/**
 * The prefix index as it was first written (a Map per endpoint, an object per block): slow and large, but
 * obviously right. The compact index must behave exactly as this one does (test/plugins/prefix-index.test.ts).
 */
interface Slot {
  placed: number;
  used: number;
}

export class ReferencePrefixIndex {
  readonly #holders = new Map<number, number[]>();
  readonly #lrus = new Map<string, Map<number, Slot>>();
  readonly #ids = new Map<string, number>();
  readonly #freeIds: number[] = [];
  #nextId = 0;
  #tick = 0;

  idOf(endpointKey: string): number | undefined {
    return this.#ids.get(endpointKey);
  }

  get size(): number {
    return this.#holders.size;
  }

  blocksHeldBy(endpointKey: string): number {
    return this.#lrus.get(endpointKey)?.size ?? 0;
  }

  holders(hash: number): readonly number[] | undefined {
    return this.#holders.get(hash);
  }

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
    while (lru.size > capacity) {
      const [h, slot] = lru.entries().next().value as [number, Slot];
      lru.delete(h);
      if (slot.used > slot.placed) {
        slot.placed = slot.used;
        lru.set(h, slot);
      } else {
        this.#unhold(h, id);
      }
    }
  }

  removeEndpoint(endpointKey: string): void {
    const lru = this.#lrus.get(endpointKey);
    const id = this.#ids.get(endpointKey);
    if (!lru || id === undefined) return;
    for (const h of lru.keys()) this.#unhold(h, id);
    this.#lrus.delete(endpointKey);
    this.#ids.delete(endpointKey);
    this.#freeIds.push(id);
  }

  #unhold(hash: number, id: number): void {
    const list = this.#holders.get(hash);
    if (!list) return;
    const i = list.indexOf(id);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#holders.delete(hash);
  }
}
