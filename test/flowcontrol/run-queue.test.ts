/** RunQueue against a sorted-array reference: in-order pushes, out-of-order ones, removals anywhere, rekeys. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunQueue } from '../../src/flowcontrol/run-queue.js';
import { seededRandom } from '../../src/scheduling/random.js';

interface Item {
  key: number;
  seq: number;
  slot: number;
}

const less = (a: Item, b: Item) => a.key < b.key || (a.key === b.key && a.seq < b.seq);

/** Replays `ops` on a RunQueue and on a plain array, checking size, peek and membership after each step. */
function replay(ops: readonly (readonly [op: 'push', key: number] | readonly [op: 'pop'] | readonly [op: 'remove', nth: number] | readonly [op: 'rekey', by: number])[]) {
  const q = new RunQueue<Item>(less, 'slot');
  let live: Item[] = [];
  let seq = 0;
  const popped: number[] = [];
  for (const op of ops) {
    if (op[0] === 'push') {
      const item = { key: op[1], seq: seq++, slot: -1 };
      q.push(item);
      live.push(item);
    } else if (op[0] === 'pop') {
      const top = q.pop();
      const want = [...live].sort((a, b) => (less(a, b) ? -1 : 1))[0];
      assert.equal(top, want);
      if (top) {
        popped.push(top.key);
        live = live.filter((i) => i !== top);
        assert.equal(top.slot, -1, 'a popped item is marked not queued');
      }
    } else if (op[0] === 'remove') {
      if (live.length === 0) continue;
      const victim = live[op[1] % live.length]!;
      assert.equal(q.remove(victim), true);
      assert.equal(q.remove(victim), false, 'removing twice is a no-op');
      live = live.filter((i) => i !== victim);
    } else {
      for (const i of live) i.key = op[1] - i.key;
      q.rebuild();
    }
    assert.equal(q.size, live.length);
    assert.equal(q.peek(), [...live].sort((a, b) => (less(a, b) ? -1 : 1))[0]);
    assert.deepEqual(new Set(q.values()), new Set(live));
    for (const i of live) assert.equal(q.has(i), true);
  }
  return popped;
}

const cases = [
  { name: 'in-order pushes come out first-in first-out', ops: [['push', 1], ['push', 2], ['push', 2], ['push', 3], ['pop'], ['pop'], ['pop'], ['pop'], ['pop']], popped: [1, 2, 2, 3] },
  { name: 'an out-of-order push goes to the heap and still comes out in order', ops: [['push', 5], ['push', 9], ['push', 1], ['push', 7], ['pop'], ['pop'], ['pop'], ['pop']], popped: [1, 5, 7, 9] },
  { name: 'removing from the middle leaves the rest in order', ops: [['push', 1], ['push', 2], ['push', 3], ['push', 4], ['remove', 1], ['remove', 1], ['pop'], ['pop']], popped: [1, 4] },
  { name: 'removing the tail, then pushing below the dead tail, keeps order', ops: [['push', 1], ['push', 10], ['remove', 1], ['push', 5], ['pop'], ['pop']], popped: [1, 5] },
  { name: 'a rekey that reverses the order', ops: [['push', 1], ['push', 2], ['push', 3], ['rekey', 10], ['pop'], ['pop'], ['pop']], popped: [7, 8, 9] },
  { name: 'emptied and reused', ops: [['push', 3], ['pop'], ['push', 1], ['push', 2], ['pop'], ['pop'], ['pop']], popped: [3, 1, 2] },
] as const;

for (const c of cases) {
  test(`RunQueue: ${c.name}`, () => {
    assert.deepEqual(replay(c.ops), c.popped);
  });
}

test('RunQueue: 3,000 seeded random operations agree with the reference', () => {
  const rnd = seededRandom(7).next;
  type Op = Parameters<typeof replay>[0][number];
  const ops: Op[] = [];
  let clock = 0;
  for (let i = 0; i < 3_000; i++) {
    const r = rnd();
    if (r < 0.45) ops.push(['push', r < 0.4 ? (clock += 1) : Math.floor(rnd() * clock)]);
    else if (r < 0.7) ops.push(['pop']);
    else if (r < 0.999) ops.push(['remove', Math.floor(rnd() * 1000)]);
    else ops.push(['rekey', clock * 2]);
  }
  replay(ops);
});

test('RunQueue: half of 10,000 removed from everywhere but the head (compaction), then 10,000 more: all in order', () => {
  const q = new RunQueue<Item>(less, 'slot');
  const items: Item[] = [];
  for (let i = 0; i < 10_000; i++) {
    const it = { key: i, seq: i, slot: -1 };
    items.push(it);
    q.push(it);
  }
  // Round-robin-like removal from everywhere but the head: the run compacts instead of growing.
  for (let i = 1; i < 10_000; i += 2) q.remove(items[i]!);
  for (let i = 10_000; i < 20_000; i++) q.push({ key: i, seq: i, slot: -1 });
  assert.equal(q.size, 15_000);
  let prev = -1;
  for (let it = q.pop(); it; it = q.pop()) {
    assert.ok(it.key > prev);
    prev = it.key;
  }
});

test('RunQueue: a steady first-in first-out stream holds a bounded footprint (no growth from popped slots)', () => {
  const q = new RunQueue<Item>(less, 'slot');
  let seq = 0;
  for (let i = 0; i < 10; i++) q.push({ key: seq, seq: seq++, slot: -1 });
  let maxFootprint = 0;
  for (let i = 0; i < 100_000; i++) {
    q.push({ key: seq, seq: seq++, slot: -1 });
    q.pop();
    maxFootprint = Math.max(maxFootprint, q.footprint);
  }
  assert.equal(q.size, 10);
  assert.ok(maxFootprint <= 2 * 10 + 64 + 1, `footprint reached ${maxFootprint}`);
});
