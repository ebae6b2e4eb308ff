/**
 * A binary min-heap that records each element's position in the element itself (under a slot chosen by
 * the owner), so removing an arbitrary element (a cancelled or expired request) is O(log n) with no search.
 */
export class IndexedHeap<T extends object> {
  readonly #items: T[] = [];
  readonly #less: (a: T, b: T) => boolean;
  readonly #slot: keyof T;

  /** `slot` names a numeric field of T the heap owns: the element's index, or -1 when not in the heap. */
  constructor(less: (a: T, b: T) => boolean, slot: keyof T) {
    this.#less = less;
    this.#slot = slot;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  has(item: T): boolean {
    const i = item[this.#slot] as unknown as number;
    return i >= 0 && this.#items[i] === item;
  }

  push(item: T): void {
    this.#items.push(item);
    this.#up(this.#items.length - 1);
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `item` if it is in the heap; returns whether it was. */
  remove(item: T): boolean {
    if (!this.has(item)) return false;
    const i = item[this.#slot] as unknown as number;
    const last = this.#items.pop()!;
    this.#setIndex(item, -1);
    if (last !== item) {
      this.#items[i] = last;
      this.#setIndex(last, i);
      this.#down(i);
      this.#up(i);
    }
    return true;
  }

  /** The elements in heap order (not sorted); do not modify. */
  values(): readonly T[] {
    return this.#items;
  }

  /** Restores heap order after the keys of every element changed. */
  rebuild(): void {
    for (let i = (this.#items.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  /** Removes and returns every element, in no particular order. */
  drain(): T[] {
    const all = this.#items.splice(0);
    for (const item of all) this.#setIndex(item, -1);
    return all;
  }

  #setIndex(item: T, i: number): void {
    (item as Record<keyof T, unknown>)[this.#slot] = i;
  }

  #up(i: number): void {
    const items = this.#items;
    const item = items[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!this.#less(item, p)) break;
      items[i] = p;
      this.#setIndex(p, i);
      i = parent;
    }
    items[i] = item;
    this.#setIndex(item, i);
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.#less(items[child + 1]!, items[child]!)) child++;
      const c = items[child]!;
      if (!this.#less(c, item)) break;
      items[i] = c;
      this.#setIndex(c, i);
      i = child;
    }
    items[i] = item;
    this.#setIndex(item, i);
  }
}
