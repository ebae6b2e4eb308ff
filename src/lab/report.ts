/**
 * The lab's report: per arm, TTFT and latency percentiles, throughput, prefix-cache hit rate and how evenly
 * the pods were loaded, as a text table and as a self-contained HTML page with the TTFT and latency
 * distributions drawn as inline SVG (no scripts, nothing fetched).
 */
import type { ArmResult } from './runner.js';

export interface ArmSummary {
  readonly arm: string;
  readonly requests: number;
  readonly ok: number;
  readonly ttft: { p50: number; p90: number; p99: number };
  readonly latency: { p50: number; p90: number; p99: number };
  /** Completed requests per second of wall time. */
  readonly throughput: number;
  /** Cached prompt tokens / prompt tokens, over successful requests. */
  readonly hitRate: number;
  /** Requests on the busiest pod / the mean per pod (1 is perfectly even). */
  readonly loadSpread: number;
  readonly ttfts: readonly number[];
  readonly latencies: readonly number[];
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summarize(r: ArmResult): ArmSummary {
  const ok = r.results.filter((x) => x.status === 200 && Number.isFinite(x.ttftMs));
  const ttfts = ok.map((x) => x.ttftMs).sort((a, b) => a - b);
  const latencies = ok.map((x) => x.latencyMs).sort((a, b) => a - b);
  const prompt = ok.reduce((s, x) => s + x.promptTokens, 0);
  const cached = ok.reduce((s, x) => s + x.cachedTokens, 0);
  const perPod = new Map(r.pods.map((p) => [p, 0]));
  for (const x of ok) perPod.set(x.pod, (perPod.get(x.pod) ?? 0) + 1);
  const counts = [...perPod.values()];
  const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length);
  return {
    arm: r.arm,
    requests: r.results.length,
    ok: ok.length,
    ttft: { p50: percentile(ttfts, 50), p90: percentile(ttfts, 90), p99: percentile(ttfts, 99) },
    latency: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99) },
    throughput: ok.length / r.seconds,
    hitRate: prompt > 0 ? cached / prompt : 0,
    loadSpread: mean > 0 ? Math.max(...counts) / mean : 0,
    ttfts,
    latencies,
  };
}

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');

export function textReport(title: string, arms: readonly ArmSummary[]): string {
  const rows = [
    ['arm', 'ok', 'TTFT p50', 'p90', 'p99 ms', 'latency p50', 'p90 ms', 'req/s', 'prefix hits', 'busiest pod'],
    ...arms.map((a) => [a.arm, `${a.ok}/${a.requests}`, ms(a.ttft.p50), ms(a.ttft.p90), ms(a.ttft.p99), ms(a.latency.p50), ms(a.latency.p90), a.throughput.toFixed(1), `${(100 * a.hitRate).toFixed(1)} %`, `${a.loadSpread.toFixed(2)}× mean`]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const base = arms.find((a) => a.arm === 'round-robin');
  const vs = base
    ? arms
        .filter((a) => a !== base)
        .map((a) => `${a.arm}: TTFT p90 ${(base.ttft.p90 / a.ttft.p90).toFixed(1)}× better than round-robin, p50 ${(base.ttft.p50 / a.ttft.p50).toFixed(1)}×`)
    : [];
  return [title, '', ...rows.map(line), '', ...vs].join('\n') + '\n';
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' }[c]};`);
const COLORS = ['#7a7f8c', '#2f6fed', '#e0692b', '#1e8e3e', '#9b3bc4', '#c0392b'];

/** A cumulative distribution of each arm's values (ms, log x axis) as one SVG. */
function cdf(title: string, series: readonly { name: string; values: readonly number[] }[]): string {
  const W = 640, H = 280, L = 50, R = 16, T = 28, B = 36;
  const all = series.flatMap((s) => s.values).filter((v) => v > 0);
  if (all.length === 0) return '';
  const lo = Math.max(1, Math.min(...all)), hi = Math.max(...all) * 1.05;
  const x = (v: number) => L + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1)) * (W - L - R);
  const y = (f: number) => T + (1 - f) * (H - T - B);
  const ticks: number[] = [];
  for (let d = Math.pow(10, Math.floor(Math.log10(lo))); d <= hi; d *= 10) for (const m of [1, 2, 5]) if (d * m >= lo && d * m <= hi) ticks.push(d * m);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img"><title>${escape(title)}</title>`, `<text x="${L}" y="16" font-size="13" font-weight="600">${escape(title)}</text>`];
  for (const t of ticks) parts.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${T}" y2="${H - B}" stroke="#e3e6ee"/><text x="${x(t)}" y="${H - B + 14}" font-size="10" text-anchor="middle">${t}</text>`);
  for (const f of [0, 0.5, 0.9, 1]) parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(f)}" y2="${y(f)}" stroke="#e3e6ee"/><text x="${L - 6}" y="${y(f) + 3}" font-size="10" text-anchor="end">p${Math.round(f * 100)}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">ms (log scale)</text>`);
  series.forEach((s, i) => {
    if (s.values.length === 0) return;
    const pts = s.values.map((v, k) => `${x(v).toFixed(1)},${y((k + 1) / s.values.length).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${x(s.values[0]!).toFixed(1)},${y(0)} ${pts.join(' ')}"/>`);
    parts.push(`<text x="${W - R - 4}" y="${T + 14 + i * 14}" font-size="11" text-anchor="end" fill="${COLORS[i % COLORS.length]}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

export function htmlReport(title: string, arms: readonly ArmSummary[], text: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2330}pre{background:#f7f8fb;padding:12px;border:1px solid #e3e6ee;border-radius:6px;overflow:auto}figure{margin:16px 0}</style></head><body>
<h1>${escape(title)}</h1>
<pre>${escape(text)}</pre>
<figure>${cdf('Time to first token (cumulative)', arms.map((a) => ({ name: a.arm, values: a.ttfts })))}</figure>
<figure>${cdf('Request latency (cumulative)', arms.map((a) => ({ name: a.arm, values: a.latencies })))}</figure>
</body></html>
`;
}
