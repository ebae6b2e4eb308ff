/** The routing lab: seeded workloads, statistics, and a short run end to end through the CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { workload, WORKLOAD_KINDS } from '../../src/lab/workload.js';
import { percentile, summarize, textReport } from '../../src/lab/report.js';

test('workloads: the same seed gives the same requests; the kinds differ as designed', () => {
  for (const kind of WORKLOAD_KINDS) {
    const a = workload({ kind, rate: 20, seconds: 5, seed: 3 });
    assert.deepEqual(workload({ kind, rate: 20, seconds: 5, seed: 3 }), a, `${kind}: reproducible`);
    assert.notDeepEqual(workload({ kind, rate: 20, seconds: 5, seed: 4 }), a, `${kind}: the seed matters`);
    assert.ok(a.every((r, i) => i === 0 || r.at >= a[i - 1]!.at), `${kind}: in time order`);
    assert.ok(a.length > 40 && a.length < 200, `${kind}: about 100 requests, got ${a.length}`);
  }
  const shared = workload({ kind: 'shared-prefix', rate: 50, seconds: 10, seed: 1, groups: 4 });
  assert.equal(new Set(shared.map((r) => r.system)).size, 4, 'four system prompts shared by everyone');
  const unique = workload({ kind: 'unique', rate: 50, seconds: 2, seed: 1 });
  assert.equal(new Set(unique.map((r) => r.system)).size, unique.length, 'no two unique requests share a system prompt');
  const turns = workload({ kind: 'multi-turn', rate: 50, seconds: 4, seed: 1 });
  const byConv = new Map<string, string[]>();
  for (const r of turns) byConv.set(r.group, [...(byConv.get(r.group) ?? []), r.user]);
  for (const users of byConv.values()) users.forEach((u, i) => i > 0 && assert.ok(u.startsWith(users[i - 1]!), 'each turn extends the conversation'));
  const bursts = workload({ kind: 'bursts', rate: 50, seconds: 4, seed: 1 });
  assert.equal(bursts.length % 10, 0, 'bursts of ten');
  assert.throws(() => workload({ kind: 'unique', rate: 0, seconds: 1, seed: 1 }), /rate and seconds must be positive/);
});

test('summaries: percentiles, hit rate, throughput, load spread; failures left out', () => {
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
  assert.equal(percentile([5], 99), 5);
  const ok = (pod: string, ttftMs: number, promptTokens: number, cachedTokens: number) => ({ status: 200, ttftMs, latencyMs: ttftMs + 100, pod, promptTokens, cachedTokens });
  const s = summarize({
    arm: 'x',
    seconds: 2,
    pods: ['a', 'b'],
    results: [ok('a', 10, 100, 50), ok('a', 20, 100, 100), ok('a', 30, 100, 0), ok('b', 40, 100, 50), { status: 503, ttftMs: NaN, latencyMs: 5, pod: '', promptTokens: 0, cachedTokens: 0 }],
  });
  assert.deepEqual([s.requests, s.ok, s.ttft.p50, s.ttft.p90, s.latency.p50], [5, 4, 20, 40, 120]);
  assert.equal(s.hitRate, 0.5);
  assert.equal(s.throughput, 2);
  assert.equal(s.loadSpread, 1.5, '3 of 4 on pod a: 1.5× the mean of 2');
  assert.match(textReport('t', [{ ...s, arm: 'round-robin' }, { ...s, arm: 'cfg', ttft: { ...s.ttft, p90: 10 } }]), /cfg: TTFT p90 4\.0× better than round-robin/);
});

test('npm run lab: a short seeded run against a config and round-robin writes the text and HTML reports', async () => {
  const out = mkdtempSync(join(tmpdir(), 'lab-'));
  const cli = fileURLToPath(new URL('../../src/lab/cli.js', import.meta.url));
  const config = fileURLToPath(new URL('../../../examples/configs/shared-prefix.yaml', import.meta.url));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [cli, '--config', config, '--rate', '10', '--seconds', '3', '--groups', '2', '--prefix-tokens', '600', '--out', out], { timeout: 120_000 });
    const text = readFileSync(join(out, 'report.txt'), 'utf8');
    assert.equal(stdout.split('\nreport:')[0]!.trim(), text.trim());
    assert.match(text, /^Routing lab: shared-prefix, 10 req\/s for 3 s, 4 pods × 2048 KV blocks, seed 1/);
    const rows = text.split('\n').filter((l) => /^(round-robin|\S*shared-prefix\.yaml) /.test(l));
    assert.equal(rows.length, 2, text);
    for (const row of rows) assert.match(row, /(\d+)\/\1 /, `every request answered: ${row}`);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /<svg[^>]*><title>Time to first token \(cumulative\)<\/title>/);
    assert.match(html, /<polyline /);
    assert.doesNotMatch(html, /<script/);
    await assert.rejects(promisify(execFile)(process.execPath, [cli, '--workload', 'nope']), /--workload must be one of shared-prefix, multi-turn, unique, bursts, got "nope"/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
