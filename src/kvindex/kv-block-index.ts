/**
 * Which pod holds which KV block, from the model servers' own events: request keys (recomputed by the EPP
 * from token ids, see block-keys.ts, in their 53-bit index form) → the pods holding that block and in which
 * tier, plus per pod the engine's hash (folded the same way) → request keys and the full key a child chain
 * continues from, so a BlockRemoved (which names only engine hashes) finds its entries.
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

import type { ChainTail } from './block-keys.js';

/** What an engine hash of a pod stands for. */
interface EngineEntry {
  readonly keys: number[];
  /** The full key of the last request key mapped here: where a chain stored on top of it continues. */
  tail: ChainTail | undefined;
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
  readonly #blocks = new Map<number, Map<string, Holding>>();
  readonly #engine = new Map<string, Map<number, EngineEntry>>();

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
   * engine[i·E/n] → request[i·R/n] for i < n = max(E, R), so block sizes may differ); `tails[j]` is the full
   * key of `request[j]`, kept so a later event chained on this engine hash can continue the chain.
   */
  stored(pod: string, engine: ArrayLike<number>, request: ArrayLike<number>, tier: string, tails?: ArrayLike<ChainTail>): void {
    const n = Math.max(engine.length, request.length);
    if (n === 0) return;
    let map = this.#engine.get(pod);
    if (!map) this.#engine.set(pod, (map = new Map()));
    for (let i = 0; i < n; i++) {
      const ri = Math.floor((i * request.length) / n);
      const r = request[ri];
      if (r === undefined) continue;
      if (engine.length > 0) {
        const e = engine[Math.floor((i * engine.length) / n)]!;
        let entry = map.get(e);
        if (entry) map.delete(e); // refresh its LRU place
        else entry = { keys: [], tail: undefined };
        if (!entry.keys.includes(r)) entry.keys.push(r);
        if (tails) entry.tail = tails[ri];
        map.set(e, entry);
      }
      const h = this.#hold(r, pod);
      if (!h.tiers.includes(tier)) h.tiers.push(tier);
    }
    while (map.size > this.#size) map.delete(map.keys().next().value!);
  }

  /** Where a chain stored on top of `pod`'s engine hash continues (undefined when unknown: an orphan). */
  parentOf(pod: string, engineHash: number): ChainTail | undefined {
    return this.#engine.get(pod)?.get(engineHash)?.tail;
  }

  /** `pod` dropped the blocks of engine hashes `engine` from `tier`. */
  removed(pod: string, engine: ArrayLike<number>, tier: string): void {
    const map = this.#engine.get(pod);
    if (!map) return;
    for (let i = 0; i < engine.length; i++) {
      const e = engine[i]!;
      const keys = map.get(e)?.keys;
      if (!keys) continue;
      let stillHeld = false;
      for (const r of keys) {
        const holders = this.#blocks.get(r);
        const h = holders?.get(pod);
        if (!holders || !h) continue;
        h.tiers = h.tiers.filter((t) => t !== tier);
        if (h.tiers.length > 0) stillHeld = true;
        else if (!(h.speculativeUntil > this.#now())) holders.delete(pod);
        if (holders.size === 0) this.#blocks.delete(r);
      }
      // Kept while another tier still holds the block, so its removal from that tier finds it too.
      if (!stillHeld) map.delete(e);
    }
  }

  /** Everything `pod` holds goes (AllBlocksCleared, a restart, the pod leaving). */
  clear(pod: string): void {
    const map = this.#engine.get(pod);
    this.#engine.delete(pod);
    if (!map) return;
    for (const { keys } of map.values()) {
      for (const r of keys) {
        const holders = this.#blocks.get(r);
        if (!holders) continue;
        holders.delete(pod);
        if (holders.size === 0) this.#blocks.delete(r);
      }
    }
  }

  /** The EPP routed a request to `pod`: its blocks count as held until `until` (ms) unless confirmed. */
  speculate(pod: string, request: ArrayLike<number>, until: number): void {
    for (let i = 0; i < request.length; i++) {
      const h = this.#hold(request[i]!, pod);
      h.speculativeUntil = Math.max(h.speculativeUntil, until);
    }
  }

  /**
   * Longest consecutive prefix of `keys` each pod holds, for the given pods: walks from block 0 keeping
   * only pods that held every block so far; each block adds its best tier weight.
   */
  match(keys: ArrayLike<number>, pods: readonly string[]): Map<string, PrefixMatch> {
    const now = this.#now();
    const out = new Map<string, PrefixMatch>();
    let alive = pods.slice();
    const weighted = new Float64Array(pods.length);
    const counts = new Int32Array(pods.length);
    const slot = new Map(pods.map((p, i) => [p, i]));
    for (let ki = 0; ki < keys.length; ki++) {
      if (alive.length === 0) break;
      const holders = this.#blocks.get(keys[ki]!);
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

  #hold(r: number, pod: string): Holding {
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
