import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkedSet } from '../../src/extproc/open-streams.js';

const values = <T>(s: LinkedSet<T>) => [...s.nodes()].map((n) => n.value);

test('linked set: add, remove from any place, size and order', () => {
  const cases: { name: string; add: string[]; remove: string[]; want: string[] }[] = [
    { name: 'nothing removed', add: ['a', 'b', 'c'], remove: [], want: ['a', 'b', 'c'] },
    { name: 'the head', add: ['a', 'b', 'c'], remove: ['a'], want: ['b', 'c'] },
    { name: 'the middle', add: ['a', 'b', 'c'], remove: ['b'], want: ['a', 'c'] },
    { name: 'the tail', add: ['a', 'b', 'c'], remove: ['c'], want: ['a', 'b'] },
    { name: 'all, then one added', add: ['a', 'b'], remove: ['a', 'b'], want: [] },
    { name: 'twice the same (harmless)', add: ['a', 'b'], remove: ['a', 'a'], want: ['b'] },
  ];
  for (const c of cases) {
    const s = new LinkedSet<string>();
    const nodes = new Map(c.add.map((v) => [v, s.add(v)]));
    for (const r of c.remove) s.remove(nodes.get(r)!);
    assert.deepEqual(values(s), c.want, c.name);
    assert.equal(s.size, c.want.length, `${c.name}: size`);
    s.add('z');
    assert.deepEqual(values(s), [...c.want, 'z'], `${c.name}: added after`);
  }
});

test('linked set: a removed node points at nothing (a dead node must not keep live ones reachable)', () => {
  const s = new LinkedSet<number>();
  const [a, b, c] = [s.add(1), s.add(2), s.add(3)];
  s.remove(b);
  assert.equal(b.prev, undefined);
  assert.equal(b.next, undefined);
  assert.equal(a.next, c);
  assert.equal(c.prev, a);
});

test('linked set: removing while iterating visits every node once; clear empties it', () => {
  const s = new LinkedSet<number>();
  for (let i = 0; i < 5; i++) s.add(i);
  const seen: number[] = [];
  for (const n of s.nodes()) {
    seen.push(n.value);
    if (n.value % 2 === 0) s.remove(n);
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  assert.deepEqual(values(s), [1, 3]);
  s.clear();
  assert.equal(s.size, 0);
  assert.deepEqual(values(s), []);
});
