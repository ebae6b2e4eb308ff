/** scanSamples: label values as the text format writes them (escapes included), values, malformed lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SampleNames, scanSamples, type Sample } from '../../src/datalayer/prom-text.js';

function scan(line: string): { samples: { labels: Record<string, string>; value: number }[]; bad: number } {
  const samples: { labels: Record<string, string>; value: number }[] = [];
  let bad = 0;
  scanSamples(Buffer.from(`# HELP m x\n${line}\nother 1\n`, 'latin1'), new SampleNames(['m']), (s: Sample) => samples.push({ labels: Object.fromEntries(s.labels), value: s.value }), () => bad++);
  return { samples, bad };
}

const cases: { name: string; line: string; labels?: Record<string, string>; value?: number; bad?: boolean }[] = [
  { name: 'no labels', line: 'm 3', labels: {}, value: 3 },
  { name: 'plain labels', line: 'm{a="x",b="y z"} 1.5', labels: { a: 'x', b: 'y z' }, value: 1.5 },
  { name: 'escaped quote', line: 'm{a="say \\"hi\\""} 1', labels: { a: 'say "hi"' }, value: 1 },
  { name: 'escaped newline and backslash', line: 'm{a="l1\\nl2",b="c:\\\\d"} 2', labels: { a: 'l1\nl2', b: 'c:\\d' }, value: 2 },
  { name: 'escape first, then plain text', line: 'm{a="\\"x",b="q"} 4', labels: { a: '"x', b: 'q' }, value: 4 },
  { name: 'empty value and trailing comma', line: 'm{a="",} 0', labels: { a: '' }, value: 0 },
  { name: 'a timestamp after the value', line: 'm{a="1"} 7 1700000000000', labels: { a: '1' }, value: 7 },
  { name: 'special values', line: 'm +Inf', labels: {}, value: Infinity },
  { name: 'unterminated label value', line: 'm{a="x} 1', bad: true },
  { name: 'a label without quotes', line: 'm{a=x} 1', bad: true },
];

for (const c of cases) {
  test(`prom-text: ${c.name}`, () => {
    const r = scan(c.line);
    if (c.bad) {
      assert.equal(r.bad, 1);
      assert.equal(r.samples.length, 0);
      return;
    }
    assert.equal(r.bad, 0);
    assert.deepEqual(r.samples, [{ labels: c.labels, value: c.value }]);
  });
}
