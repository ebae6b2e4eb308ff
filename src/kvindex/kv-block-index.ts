/**
 * Which pod holds which KV block, from the model servers' own events: request keys (recomputed by the EPP
 * from token ids, see block-keys.ts) → the pods holding that block and in which tier, plus per pod the
 * engine's hash → request keys, so a BlockRemoved (which names only engine hashes) finds its entries.
 *
 * Bounded: at most `size` request keys, least recently stored first out (a Map's insertion order, refreshed
 * on every store), at most `podCacheSize` pods per key, and per pod at most `size` engine hashes. Speculative
 * entries (the EPP's own guess at PreRequest, before the events confirm it) carry an expiry and weigh 1.0.
 */

export interface TierWeights {
  /** Lowercased tier → weight; unlisted tiers (and speculative entries) weigh 1.0, as llm-d's do. */
  readonly [tier: string]: number;
}

export interface KvBlockIndexOptions {
  readonly size: number;
  readonly podCacheSize: number;
  readonly tierWeights: TierWeights;
  /** ms clock for speculative expiry. */
  readonly now?: () => number;
}

/** One pod's holding of one block: tiers it is stored in, and a speculative expiry (0 when none). */
interface Holding {
  tiers: string[];
  speculativeUntil: number;
}

export interface PrefixMatch {
  /** Leading blocks held, weighted by tier (max per block), summed. */
  readonly weighted: number;
  /** Leading blocks held, unweighted. */
  readonly blocks: number;
}

export class KvBlockIndex {
  readonly #size: number;
  readonly #podCacheSize: number;
  readonly #weights: TierWeights;
  readonly #now: () => number;
  readonly #blocks = new Map<bigint, Map<string, Holding>>();
  readonly #engine = new Map<string, Map<bigint, bigint[]>>();

  constructor(o: KvBlockIndexOptions) {
    this.#size = o.size;
    this.#podCacheSize = o.podCacheSize;
    this.#weights = o.tierWeights;
    this.#now = o.now ?? Date.now;
  }

  /** Request keys indexed. */
  get size(): number {
    return this.#blocks.size;
  }

  /** Pods with anything indexed. */
  get pods(): number {
    return this.#engine.size;
  }

  /**
   * `pod` stored blocks: engine hashes `engine` whose request keys are `request` (llm-d maps
   * engine[i·E/n] → request[i·R/n] for i < n = max(E, R), so block sizes may differ).
   */
  stored(pod: string, engine: readonly bigint[], request: readonly bigint[], tier: string): void {
    const n = Math.max(engine.length, request.length);
    if (n === 0) return;
    let map = this.#engine.get(pod);
    if (!map) this.#engine.set(pod, (map = new Map()));
    for (let i = 0; i < n; i++) {
      const e = engine[Math.floor((i * engine.length) / n)];
      const r = request[Math.floor((i * request.length) / n)];
      if (r === undefined) continue;
      if (e !== undefined) {
        const keys = map.get(e);
        if (keys) {
          if (!keys.includes(r)) keys.push(r);
          map.delete(e);
          map.set(e, keys);
        } else map.set(e, [r]);
      }
      const h = this.#hold(r, pod);
      if (!h.tiers.includes(tier)) h.tiers.push(tier);
    }
    while (map.size > this.#size) map.delete(map.keys().next().value!);
  }

  /** The request keys an engine hash of `pod` stands for (the last one is a stored chain's tail). */
  requestKeysOf(pod: string, engineHash: bigint): readonly bigint[] | undefined {
    return this.#engine.get(pod)?.get(engineHash);
  }

  /** `pod` dropped the blocks of engine hashes `engine` from `tier`. */
  removed(pod: string, engine: readonly bigint[], tier: string): void {
    const map = this.#engine.get(pod);
    if (!map) return;
    for (const e of engine) {
      const keys = map.get(e);
      if (!keys) continue;
      map.delete(e);
      for (const r of keys) {
        const holders = this.#blocks.get(r);
        const h = holders?.get(pod);
        if (!holders || !h) continue;
        h.tiers = h.tiers.filter((t) => t !== tier);
        if (h.tiers.length === 0 && !(h.speculativeUntil > this.#now())) holders.delete(pod);
        if (holders.size === 0) this.#blocks.delete(r);
      }
    }
  }

  /** Everything `pod` holds goes (AllBlocksCleared, a restart, the pod leaving). */
  clear(pod: string): void {
    const map = this.#engine.get(pod);
    this.#engine.delete(pod);
    if (!map) return;
    for (const keys of map.values()) {
      for (const r of keys) {
        const holders = this.#blocks.get(r);
        if (!holders) continue;
        holders.delete(pod);
        if (holders.size === 0) this.#blocks.delete(r);
      }
    }
  }

  /** The EPP routed a request to `pod`: its blocks count as held until `until` (ms) unless confirmed. */
  speculate(pod: string, request: readonly bigint[], until: number): void {
    for (const r of request) {
      const h = this.#hold(r, pod);
      h.speculativeUntil = Math.max(h.speculativeUntil, until);
    }
  }

  /**
   * Longest consecutive prefix of `keys` each pod holds, for the given pods: walks from block 0 keeping
   * only pods that held every block so far; each block adds its best tier weight.
   */
  match(keys: readonly bigint[], pods: readonly string[]): Map<string, PrefixMatch> {
    const now = this.#now();
    const out = new Map<string, PrefixMatch>();
    let alive = pods.slice();
    const weighted = new Float64Array(pods.length);
    const counts = new Int32Array(pods.length);
    const slot = new Map(pods.map((p, i) => [p, i]));
    for (const k of keys) {
      if (alive.length === 0) break;
      const holders = this.#blocks.get(k);
      if (!holders) break;
      const next: string[] = [];
      for (const pod of alive) {
        const h = holders.get(pod);
        if (!h) continue;
        let w = 0;
        for (const t of h.tiers) w = Math.max(w, this.#weights[t] ?? 1);
        if (h.speculativeUntil > now) w = Math.max(w, 1);
        if (w === 0 && h.tiers.length === 0) continue; // an expired guess
        const i = slot.get(pod)!;
        weighted[i]! += w;
        counts[i]!++;
        next.push(pod);
      }
      alive = next;
    }
    pods.forEach((p, i) => out.set(p, { weighted: weighted[i]!, blocks: counts[i]! }));
    return out;
  }

  #hold(r: bigint, pod: string): Holding {
    let holders = this.#blocks.get(r);
    if (holders) {
      this.#blocks.delete(r); // refresh its place in the LRU order
      this.#blocks.set(r, holders);
    } else {
      this.#blocks.set(r, (holders = new Map()));
      if (this.#blocks.size > this.#size) this.#blocks.delete(this.#blocks.keys().next().value!);
    }
    let h = holders.get(pod);
    if (!h) {
      holders.set(pod, (h = { tiers: [], speculativeUntil: 0 }));
      if (holders.size > this.#podCacheSize) holders.delete(holders.keys().next().value!);
    }
    return h;
  }
}
