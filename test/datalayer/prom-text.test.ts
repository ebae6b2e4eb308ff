/** scanSamples: label values as the text format writes them (escapes included), values, malformed lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEPT_PREFIX_BYTES, KEPT_SERIES, SampleNames, scanSamples, SeriesScanner, type Sample } from '../../src/datalayer/prom-text.js';

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

/** What `scanSamples` reads from a page, and what a SeriesScanner reads (first and second time). */
function bothWays(page: string, names: string[]): { plain: unknown[]; scanned: unknown[][] } {
  const buf = Buffer.from(page, 'latin1');
  const sampleNames = new SampleNames(names);
  const plain: unknown[] = [];
  scanSamples(buf, sampleNames, (s) => plain.push([s.name, Object.fromEntries(s.labels), s.value]), (name, line) => plain.push(['bad', name, line]));
  const scanner = new SeriesScanner();
  const scanned = [1, 2].map(() => {
    scanner.scan(buf, sampleNames);
    const out: unknown[] = [];
    let b = 0; // a malformed line came after `bad[b][0]` samples
    for (let k = 0; k <= scanner.series.length; k++) {
      for (; b < scanner.bad.length && scanner.bad[b]![0] === k; b++) out.push(['bad', scanner.bad[b]![1], scanner.bad[b]![2]]);
      if (k < scanner.series.length) out.push([scanner.series[k]!.name, Object.fromEntries(scanner.series[k]!.labels), scanner.values[k]]);
    }
    return out;
  });
  return { plain, scanned };
}

test('SeriesScanner reads every case as scanSamples does, the second time from its kept series too', () => {
  for (const c of cases) {
    const page = `# HELP m x\n${c.line}\nother 1\nm{z="1"} 5\n${c.line}\n`;
    const { plain, scanned } = bothWays(page, ['m']);
    assert.deepEqual(scanned[0], plain, c.name);
    assert.deepEqual(scanned[1], plain, `${c.name} (again)`);
  }
});

test('SeriesScanner: an unchanged line keeps its series, a changed label is read anew, never stale', () => {
  const names = new SampleNames(['m', 'n']);
  const scanner = new SeriesScanner();
  scanner.scan(Buffer.from('m{a="x"} 1\nn 2\n'), names);
  const [m1, n1] = scanner.series;
  m1!.plan = 'kept';
  scanner.scan(Buffer.from('m{a="x"} 1.5 1700000000000\nn 3\n'), names);
  assert.equal(scanner.series[0], m1, 'same text up to the value: the same series, its plan kept');
  assert.equal(scanner.series[1], n1);
  assert.deepEqual(scanner.values, [1.5, 3]);
  scanner.scan(Buffer.from('m{a="y"} 1.5\nn{b="1"} 3\n'), names);
  assert.notEqual(scanner.series[0], m1);
  assert.equal(scanner.series[0]!.plan, undefined);
  assert.deepEqual(Object.fromEntries(scanner.series[0]!.labels), { a: 'y' });
  assert.deepEqual(Object.fromEntries(scanner.series[1]!.labels), { b: '1' }, 'a bare name that gained labels is another series');
  scanner.scan(Buffer.from('n{b="1"} 4\nm{a="y"} 2\n'), names);
  assert.deepEqual(scanner.series.map((s) => s.name), ['n', 'm'], 'lines that moved are read where they are');
  assert.deepEqual(scanner.values, [4, 2]);
  scanner.scan(Buffer.from('n{b="1"}\nm{a="y"} \n'), names);
  assert.deepEqual(scanner.values, [NaN, NaN], 'a kept series with no value after it reads NaN, as a parse does');
});

test('SeriesScanner: other names forget the kept series (their indices meant other names)', () => {
  const scanner = new SeriesScanner();
  scanner.scan(Buffer.from('ab{x="1"} 1\n'), new SampleNames(['ab', 'cd']));
  scanner.scan(Buffer.from('cd{x="1"} 2\n'), new SampleNames(['cd', 'ab']));
  assert.deepEqual(scanner.series.map((s) => [s.name, Object.fromEntries(s.labels)]), [['cd', { x: '1' }]]);
  assert.deepEqual(scanner.values, [2]);
});

test('SeriesScanner keeps at most KEPT_SERIES series, and none whose line is longer than KEPT_PREFIX_BYTES', () => {
  const names = new SampleNames(['m']);
  const scanner = new SeriesScanner();
  const many = Array.from({ length: KEPT_SERIES + 10 }, (_, i) => `m{i="${i}"} ${i}`).join('\n');
  scanner.scan(Buffer.from(many), names);
  assert.equal(scanner.series.length, KEPT_SERIES + 10);
  assert.equal(scanner.series.filter((s) => s.prefix !== undefined).length, KEPT_SERIES);
  scanner.scan(Buffer.from(`m{a="${'x'.repeat(KEPT_PREFIX_BYTES)}"} 1\n`), names);
  assert.equal(scanner.series.length, 1);
  assert.equal(scanner.series[0]!.prefix, undefined);
  assert.equal(scanner.values[0], 1);
});

test('sample values read from bytes are exactly Number(text)', () => {
  const tokens = ['0', '-0', '7', '0.25', '.5', '12.', '-3.125', '00012', '1.50', '123456789012345', '1234567890123456', '0.000000000000001', '1e3', '1.7e9', '-', '.', '', 'NaN', '+Inf', '-Inf', '0x10', '1_0', '+5', '3.14159265358979'];
  let seed = 12345; // a fixed sequence (an LCG), so the test is the same every run
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 2000; i++) {
    const digits = String(Math.floor(next() * 10 ** (1 + (i % 15))));
    const at = Math.floor(next() * (digits.length + 1));
    tokens.push(`${i % 2 ? '-' : ''}${digits.slice(0, at)}.${digits.slice(at)}`);
  }
  const names = new SampleNames(['m']);
  const scanner = new SeriesScanner();
  for (const t of tokens) {
    scanner.scan(Buffer.from(`m ${t}\n`), names);
    const want = t === '+Inf' ? Infinity : t === '-Inf' ? -Infinity : t === '' ? NaN : Number(t);
    assert.ok(Object.is(scanner.values[0], want), `"${t}": ${scanner.values[0]} against ${want}`);
  }
});
