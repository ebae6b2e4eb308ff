/**
 * The approximate prefix-cache index: block hash → endpoints believed to hold it, plus one LRU per
 * endpoint whose evictions take the endpoint out of the hash's holder list.
 *
 * Layout: plain typed arrays, no object per block (a Map entry and a slot object per block cost ~150 bytes;
 * 100 pods × 31,250 blocks did not fit in 256 MiB). Each (endpoint, block) pair is one *entry*, a row of
 * parallel columns: its 53-bit key, its owner (endpoint id), the next entry in the owner's LRU (oldest
 * first, singly linked: entries only ever leave from the head), the next entry holding the same hash (the
 * holder chain, in the order endpoints learned the block), and two ticks for the second-chance policy.
 * An open-addressed table (linear probing, backward-shift deletion, no tombstones) maps a key to the first
 * entry of its holder chain. 28 bytes per entry plus 4–8 per distinct hash.
 *
 * The LRU is "second chance": a hit only stamps the entry (no reordering); recency is settled at eviction,
 * when a stamped entry at the head is moved to the tail instead of being evicted. Learning runs on every
 * request's dozens of blocks, evictions are rare, so this keeps the hot path cheap; the price is that
 * entries refreshed between two evictions keep their scan order, not their exact age.
 */
const NONE = -1;
const MIN_ENTRIES = 1024;
const MIN_SLOTS = 2048;

export class PrefixIndex {
  // Entry columns (row = entry index).
  #key = new Float64Array(MIN_ENTRIES);
  #owner = new Int32Array(MIN_ENTRIES);
  /** Next entry in the owner's LRU; for a free entry, the next free one. */
  #next = new Int32Array(MIN_ENTRIES);
  /** Next entry holding the same hash. */
  #sameHash = new Int32Array(MIN_ENTRIES);
  /** Tick when the entry was (re)placed at its LRU's tail / of its latest hit (uint32, compared wrapping). */
  #placed = new Uint32Array(MIN_ENTRIES);
  #used = new Uint32Array(MIN_ENTRIES);
  #entries = 0; // rows ever used (high-water mark)
  #freeEntry = NONE;
  #live = 0;

  // Hash table: slot → first entry of the holder chain, or NONE.
  #slots = new Int32Array(MIN_SLOTS).fill(NONE);
  #distinct = 0;

  // Per endpoint id: LRU head (oldest), tail, size.
  #head = new Int32Array(16).fill(NONE);
  #tail = new Int32Array(16).fill(NONE);
  #count = new Int32Array(16);
  readonly #ids = new Map<string, number>();
  #nextId = 0;
  readonly #freeIds: number[] = [];
  #tick = 0;

  /** Bumped whenever an endpoint gets or loses its id (tables built from ids are stale then). */
  idsVersion = 0;

  /** A small integer standing for an endpoint key, stable while the endpoint is indexed. */
  idOf(endpointKey: string): number | undefined {
    return this.#ids.get(endpointKey);
  }

  /** One more than the largest id handed out: the size of an id-indexed table. */
  get idLimit(): number {
    return this.#nextId;
  }

  /** Distinct hashes indexed. */
  get size(): number {
    return this.#distinct;
  }

  /** (endpoint, block) pairs indexed. */
  get entries(): number {
    return this.#live;
  }

  /** Bytes held by the index's arrays (allocated, not necessarily touched). */
  get bytes(): number {
    return this.#key.byteLength + this.#owner.byteLength + this.#next.byteLength + this.#sameHash.byteLength + this.#placed.byteLength + this.#used.byteLength + this.#slots.byteLength;
  }

  blocksHeldBy(endpointKey: string): number {
    const id = this.#ids.get(endpointKey);
    return id === undefined ? 0 : this.#count[id]!;
  }

  /** Records that `endpointKey` now holds `hashes`, evicting its least recently used blocks beyond `capacity`. */
  add(endpointKey: string, hashes: ArrayLike<number>, capacity: number): void {
    const id = this.#ids.get(endpointKey) ?? this.#newId(endpointKey);
    const tick = (this.#tick = (this.#tick + 1) >>> 0);
    for (let i = 0; i < hashes.length; i++) {
      const h = hashes[i]!;
      const slot = this.#find(h);
      let last = NONE;
      if (slot >= 0) {
        let e = this.#slots[slot]!;
        for (; e !== NONE; e = this.#sameHash[e]!) {
          if (this.#owner[e] === id) break;
          last = e;
        }
        if (e !== NONE) {
          this.#used[e] = tick;
          continue;
        }
      }
      const e = this.#allocate();
      this.#key[e] = h;
      this.#owner[e] = id;
      this.#placed[e] = tick;
      this.#used[e] = tick;
      this.#sameHash[e] = NONE;
      this.#append(id, e);
      if (last !== NONE) this.#sameHash[last] = e;
      else this.#insertSlot(h, e);
    }
    this.#evict(id, capacity);
  }

  /** Ids of the endpoints holding `hash`, in the order they learned it; undefined when none does. */
  holders(hash: number): number[] | undefined {
    const slot = this.#find(hash);
    if (slot < 0) return undefined;
    const out: number[] = [];
    for (let e = this.#slots[slot]!; e !== NONE; e = this.#sameHash[e]!) out.push(this.#owner[e]!);
    return out;
  }

  /**
   * Walks the chain `hashes` and adds, for each block, one to `matched[position[id]]` of every endpoint
   * holding it (position −1: not a candidate). Stops at the first block no endpoint holds: a later block
   * cannot be cached without it.
   */
  countMatches(hashes: ArrayLike<number>, position: Int32Array, matched: Int32Array): void {
    for (let b = 0; b < hashes.length; b++) {
      const slot = this.#find(hashes[b]!);
      if (slot < 0) return;
      for (let e = this.#slots[slot]!; e !== NONE; e = this.#sameHash[e]!) {
        const i = position[this.#owner[e]!]!;
        if (i >= 0) matched[i]!++;
      }
    }
  }

  /** Forgets an endpoint that left the pool. */
  removeEndpoint(endpointKey: string): void {
    const id = this.#ids.get(endpointKey);
    if (id === undefined) return;
    for (let e = this.#head[id]!; e !== NONE; ) {
      const next = this.#next[e]!;
      this.#unhold(e);
      this.#release(e);
      e = next;
    }
    this.#head[id] = NONE;
    this.#tail[id] = NONE;
    this.#count[id] = 0;
    this.#ids.delete(endpointKey);
    this.idsVersion++;
    this.#freeIds.push(id);
    this.#shrinkIfSparse();
  }

  #newId(endpointKey: string): number {
    const id = this.#freeIds.pop() ?? this.#nextId++;
    if (id >= this.#head.length) {
      const grow = (a: Int32Array, fill: number) => {
        const b = new Int32Array(a.length * 2).fill(fill);
        b.set(a);
        return b;
      };
      this.#head = grow(this.#head, NONE);
      this.#tail = grow(this.#tail, NONE);
      this.#count = grow(this.#count, 0);
    }
    this.#ids.set(endpointKey, id);
    this.idsVersion++;
    return id;
  }

  #append(id: number, e: number): void {
    this.#next[e] = NONE;
    const tail = this.#tail[id]!;
    if (tail === NONE) this.#head[id] = e;
    else this.#next[tail] = e;
    this.#tail[id] = e;
    this.#count[id]!++;
  }

  #evict(id: number, capacity: number): void {
    while (this.#count[id]! > capacity) {
      const e = this.#head[id]!;
      this.#head[id] = this.#next[e]!;
      if (this.#head[id] === NONE) this.#tail[id] = NONE;
      this.#count[id]!--;
      if (((this.#used[e]! - this.#placed[e]!) | 0) > 0) {
        this.#placed[e] = this.#used[e]!; // second chance: used since it was placed, so it goes to the tail
        this.#append(id, e);
      } else {
        this.#unhold(e);
        this.#release(e);
      }
    }
  }

  /** Takes entry `e` out of its hash's holder chain (and the hash out of the table when none is left). */
  #unhold(e: number): void {
    const slot = this.#find(this.#key[e]!);
    if (slot < 0) return;
    let prev = NONE;
    let cur = this.#slots[slot]!;
    while (cur !== NONE && cur !== e) {
      prev = cur;
      cur = this.#sameHash[cur]!;
    }
    if (cur === NONE) return;
    const after = this.#sameHash[e]!;
    if (prev !== NONE) this.#sameHash[prev] = after;
    else if (after !== NONE) this.#slots[slot] = after;
    else this.#deleteSlot(slot);
  }

  #allocate(): number {
    this.#live++;
    if (this.#freeEntry !== NONE) {
      const e = this.#freeEntry;
      this.#freeEntry = this.#next[e]!;
      return e;
    }
    if (this.#entries === this.#key.length) this.#growEntries(this.#key.length * 2);
    return this.#entries++;
  }

  #release(e: number): void {
    this.#live--;
    this.#next[e] = this.#freeEntry;
    this.#freeEntry = e;
  }

  #growEntries(n: number): void {
    const grow = <T extends Float64Array | Int32Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.#key = grow(this.#key, (k) => new Float64Array(k));
    this.#owner = grow(this.#owner, (k) => new Int32Array(k));
    this.#next = grow(this.#next, (k) => new Int32Array(k));
    this.#sameHash = grow(this.#sameHash, (k) => new Int32Array(k));
    this.#placed = grow(this.#placed, (k) => new Uint32Array(k));
    this.#used = grow(this.#used, (k) => new Uint32Array(k));
  }

  /** After a pod left: give memory back when most of it is unused (rebuilds the arrays compactly). */
  #shrinkIfSparse(): void {
    if (this.#key.length <= MIN_ENTRIES || this.#live * 4 > this.#key.length) return;
    const n = Math.max(MIN_ENTRIES, 1 << Math.ceil(Math.log2(this.#live * 2 + 1)));
    const old = { key: this.#key, owner: this.#owner, next: this.#next, placed: this.#placed, used: this.#used, head: this.#head.slice() };
    this.#key = new Float64Array(n);
    this.#owner = new Int32Array(n);
    this.#next = new Int32Array(n);
    this.#sameHash = new Int32Array(n);
    this.#placed = new Uint32Array(n);
    this.#used = new Uint32Array(n);
    this.#entries = 0;
    this.#freeEntry = NONE;
    this.#live = 0;
    this.#slots = new Int32Array(Math.max(MIN_SLOTS, n)).fill(NONE);
    this.#distinct = 0;
    this.#head.fill(NONE);
    this.#tail.fill(NONE);
    this.#count.fill(0);
    // Re-insert every endpoint's entries oldest first; holder order within a hash follows endpoint id order.
    for (let id = 0; id < old.head.length; id++) {
      for (let e = old.head[id]!; e !== NONE; e = old.next[e]!) {
        const f = this.#allocate();
        this.#key[f] = old.key[e]!;
        this.#owner[f] = id;
        this.#placed[f] = old.placed[e]!;
        this.#used[f] = old.used[e]!;
        this.#sameHash[f] = NONE;
        this.#append(id, f);
        const slot = this.#find(old.key[e]!);
        if (slot < 0) this.#insertSlot(old.key[e]!, f);
        else {
          let last = this.#slots[slot]!;
          while (this.#sameHash[last] !== NONE) last = this.#sameHash[last]!;
          this.#sameHash[last] = f;
        }
      }
    }
  }

  // --- the open-addressed table ---

  #home(h: number): number {
    const lo = h >>> 0;
    const hi = (h / 4294967296) >>> 0;
    return (Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 0) & (this.#slots.length - 1);
  }

  /** The slot whose chain holds `h`, or −1. */
  #find(h: number): number {
    const mask = this.#slots.length - 1;
    for (let s = this.#home(h); ; s = (s + 1) & mask) {
      const e = this.#slots[s]!;
      if (e === NONE) return -1;
      if (this.#key[e] === h) return s;
    }
  }

  #insertSlot(h: number, e: number): void {
    if ((this.#distinct + 1) * 4 > this.#slots.length * 3) this.#rehash(this.#slots.length * 2);
    const mask = this.#slots.length - 1;
    let s = this.#home(h);
    while (this.#slots[s] !== NONE) s = (s + 1) & mask;
    this.#slots[s] = e;
    this.#distinct++;
  }

  /** Backward-shift deletion keeps every probe sequence unbroken without tombstones. */
  #deleteSlot(slot: number): void {
    const mask = this.#slots.length - 1;
    let hole = slot;
    for (let s = (slot + 1) & mask; ; s = (s + 1) & mask) {
      const e = this.#slots[s]!;
      if (e === NONE) break;
      const home = this.#home(this.#key[e]!);
      // Move e into the hole unless its home lies cyclically in (hole, s].
      if (((s - home) & mask) >= ((s - hole) & mask)) {
        this.#slots[hole] = e;
        hole = s;
      }
    }
    this.#slots[hole] = NONE;
    this.#distinct--;
    if (this.#slots.length > MIN_SLOTS && this.#distinct * 8 < this.#slots.length) this.#rehash(this.#slots.length / 2);
  }

  #rehash(n: number): void {
    const old = this.#slots;
    this.#slots = new Int32Array(n).fill(NONE);
    const mask = n - 1;
    for (let i = 0; i < old.length; i++) {
      const e = old[i]!;
      if (e === NONE) continue;
      let s = this.#home(this.#key[e]!);
      while (this.#slots[s] !== NONE) s = (s + 1) & mask;
      this.#slots[s] = e;
    }
  }
}
