/**
 * Token ids by segment text, least recently used out first, bounded by bytes. A segment's cost is its
 * text (two bytes a character, as V8 may hold it) plus its ids (four bytes each) plus a fixed overhead
 * for the map entry and the arrays.
 */
export interface SegmentCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
  readonly evictions: number;
}

const ENTRY_OVERHEAD = 96;

const costOf = (text: string, ids: Uint32Array) => text.length * 2 + ids.byteLength + ENTRY_OVERHEAD;

export class SegmentCache {
  readonly #map = new Map<string, Uint32Array>();
  readonly #maxBytes: number;
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(maxBytes: number) {
    if (!(maxBytes >= 0)) throw new RangeError(`SegmentCache: maxBytes must be >= 0, got ${maxBytes}`);
    this.#maxBytes = maxBytes;
  }

  /** The ids of `text`, refreshed as most recently used; counts a hit or a miss. */
  get(text: string): Uint32Array | undefined {
    const ids = this.#map.get(text);
    if (ids === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#map.delete(text);
    this.#map.set(text, ids);
    return ids;
  }

  /** Stores `ids` for `text`; a segment larger than the whole budget is not kept. */
  set(text: string, ids: Uint32Array): void {
    const cost = costOf(text, ids);
    if (cost > this.#maxBytes) return;
    const old = this.#map.get(text);
    if (old !== undefined) {
      this.#map.delete(text);
      this.#bytes -= costOf(text, old);
    }
    this.#map.set(text, ids);
    this.#bytes += cost;
    for (const [key, value] of this.#map) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#map.delete(key);
      this.#bytes -= costOf(key, value);
      this.#evictions++;
    }
  }

  get stats(): SegmentCacheStats {
    return { hits: this.#hits, misses: this.#misses, entries: this.#map.size, bytes: this.#bytes, maxBytes: this.#maxBytes, evictions: this.#evictions };
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}
