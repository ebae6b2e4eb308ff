/**
 * A priority queue for the flow controller's queues, which almost always receive their elements in order:
 * an FCFS flow gets each request after every one before it, and with one TTL the expiry order is the
 * arrival order. Elements pushed in order go to a sorted run (an array read from a head index): push, peek
 * and removing the head are O(1), and removing from the middle (a cancel, a TTL expiry, round-robin taking
 * another flow's request first) leaves a tombstone the head skips, compacted once the dead outnumber the
 * live. Only an element that arrives out of order (EDF with varied deadlines) goes to a binary heap beside
 * the run; peek compares the two heads. At 10,000 queued this keeps enqueue + dispatch flat where a heap's
 * O(log n) sift through cold memory was most of the cost (bench/flow-control.bench.ts).
 */
import { IndexedHeap } from './heap.js';

/** Slot value of an element in the sorted run (heap positions are ≥ 0; -1 is "not queued"). */
const IN_RUN = -2;
const COMPACT_MIN_DEAD = 64;

export class RunQueue<T extends object> {
  readonly #less: (a: T, b: T) => boolean;
  readonly #slot: keyof T;
  readonly #heap: IndexedHeap<T>;
  #run: T[] = [];
  #head = 0;
  #runLive = 0;

  /** `slot` names a numeric field of T the queue owns (-1 when the element is not queued). */
  constructor(less: (a: T, b: T) => boolean, slot: keyof T) {
    this.#less = less;
    this.#slot = slot;
    this.#heap = new IndexedHeap(less, slot);
  }

  get size(): number {
    return this.#runLive + this.#heap.size;
  }

  /** Slots held: live elements plus tombstones not yet compacted (bounded by 2 × size + 64). */
  get footprint(): number {
    return this.#run.length + this.#heap.size;
  }

  has(item: T): boolean {
    return this.#slotOf(item) === IN_RUN || this.#heap.has(item);
  }

  peek(): T | undefined {
    const a = this.#runHead();
    const b = this.#heap.peek();
    if (a === undefined) return b;
    if (b === undefined) return a;
    return this.#less(b, a) ? b : a;
  }

  push(item: T): void {
    // The run's last element bounds every live one, tombstone or not: comparing with it keeps the run sorted.
    const last = this.#runLive > 0 ? this.#run[this.#run.length - 1] : undefined;
    if (last === undefined || !this.#less(item, last)) {
      if (this.#runLive === 0) this.#reset();
      this.#run.push(item);
      this.#setSlot(item, IN_RUN);
      this.#runLive++;
    } else {
      this.#heap.push(item);
    }
  }

  pop(): T | undefined {
    const top = this.peek();
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `item` if it is queued here; returns whether it was. */
  remove(item: T): boolean {
    if (this.#slotOf(item) !== IN_RUN) return this.#heap.remove(item);
    this.#setSlot(item, -1);
    this.#runLive--;
    if (this.#runLive === 0) this.#reset();
    else {
      this.#runHead();
      // Slots before the head and tombstones after it: dropped once they outnumber the live elements.
      const dead = this.#run.length - this.#runLive;
      if (dead > COMPACT_MIN_DEAD && dead > this.#runLive) this.#compact();
    }
    return true;
  }

  /** Every queued element, in no particular order (a copy). */
  values(): T[] {
    const out: T[] = [];
    for (let i = this.#head; i < this.#run.length; i++) if (this.#slotOf(this.#run[i]!) === IN_RUN) out.push(this.#run[i]!);
    for (const item of this.#heap.values()) out.push(item);
    return out;
  }

  /** Restores order after the keys of every element changed: all of them become one sorted run. */
  rebuild(): void {
    const all = this.values();
    this.#heap.drain();
    all.sort((a, b) => (this.#less(a, b) ? -1 : this.#less(b, a) ? 1 : 0));
    this.#run = all;
    this.#head = 0;
    this.#runLive = all.length;
    for (const item of all) this.#setSlot(item, IN_RUN);
  }

  /** The live head of the run, dropping tombstones in front of it. */
  #runHead(): T | undefined {
    const run = this.#run;
    while (this.#head < run.length && this.#slotOf(run[this.#head]!) !== IN_RUN) this.#head++;
    return run[this.#head];
  }

  #compact(): void {
    const live: T[] = [];
    for (let i = this.#head; i < this.#run.length; i++) if (this.#slotOf(this.#run[i]!) === IN_RUN) live.push(this.#run[i]!);
    this.#run = live;
    this.#head = 0;
  }

  #reset(): void {
    this.#run = [];
    this.#head = 0;
  }

  #slotOf(item: T): number {
    return item[this.#slot] as unknown as number;
  }

  #setSlot(item: T, v: number): void {
    (item as Record<keyof T, unknown>)[this.#slot] = v;
  }
}
