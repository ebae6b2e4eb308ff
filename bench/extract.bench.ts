/**
 * The per-page CPU of scraping outside the socket, in isolation: reading one HTTP/1.1 response (as Node's
 * http server frames it) and extracting the metrics from its body, for the few-hundred-byte page the
 * collector asks for with `?name[]=` and for the whole vLLM page (~48 KB). The scrape rate that matters is
 * 100 pods × 20/s = 2,000 pages/s, so the table also gives the core share at that rate. The collector
 * extracts with a memo per pod (ExtractMemo): rows with one show an idle pod (the same page every time)
 * and a busy one (queue, running and KV figures changing every page, 64 variants in turn).
 * `node dist/bench/extract.bench.js`.
 */
import { Bench } from 'tinybench';
import { ExtractMemo, MetricsExtractor } from '../src/datalayer/extract.js';
import { ResponseReader } from '../src/datalayer/http1-response.js';
import { ENGINES } from '../src/plugins/core-metrics-extractor/engines.js';
import { vllmPage } from '../test/helpers/vllm-page.js';
import { restrictToNames } from '../src/sim/name-filter.js';

export interface ExtractRow {
  what: string;
  pageKB: number;
  p50us: number;
  meanUs: number;
  coreAt2000PagesPerSec: number;
}

/** A response as node:http writes one (the page servers of bench/scrape.bench.ts are node:http). */
const response = (body: Buffer) =>
  Buffer.concat([
    Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: ${body.length}\r\nDate: ${new Date().toUTCString()}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\n`, 'latin1'),
    body,
  ]);

export async function runExtractBench(): Promise<ExtractRow[]> {
  const extractor = new MetricsExtractor(ENGINES.get('vllm')!);
  const text = vllmPage();
  const pages = [
    ['filtered (?name[]=)', Buffer.from(restrictToNames(text, extractor.sampleNames), 'latin1')],
    ['whole', Buffer.from(text, 'latin1')], // as it comes off the wire
  ] as const;
  const bench = new Bench({ time: 1500, warmupTime: 300 });
  let body: Buffer = Buffer.alloc(0);
  for (const [what, page] of pages) {
    const raw = response(page);
    bench.add(`read response, ${what}`, () => {
      const reader = new ResponseReader(8 << 20, body);
      reader.push(raw);
      body = reader.bodyBuffer;
    });
    bench.add(`extract, ${what}`, () => {
      extractor.extract(page);
    });
  }
  const unchanged = new ExtractMemo();
  const filtered = pages[0][1];
  bench.add('extract, filtered, memo, same page', () => {
    extractor.extract(filtered, unchanged);
  });
  const variants = Array.from({ length: 64 }, (_, i) => Buffer.from(restrictToNames(vllmPage({ waiting: i % 7, running: (i * 5) % 13, kv: (i % 10) / 10 }), extractor.sampleNames), 'latin1'));
  const changing = new ExtractMemo();
  let n = 0;
  bench.add('extract, filtered, memo, values change', () => {
    extractor.extract(variants[n++ & 63]!, changing);
  });
  await bench.run();
  const sizes = [...pages.flatMap(([, p]) => [p.length, p.length]), filtered.length, filtered.length];
  return bench.tasks.map((t, i) => {
    const r = t.result as unknown as { latency: { p50: number; mean: number } };
    return { what: t.name, pageKB: sizes[i]! / 1024, p50us: r.latency.p50 * 1000, meanUs: r.latency.mean * 1000, coreAt2000PagesPerSec: (r.latency.mean * 1000 * 2000) / 1e6 };
  });
}

export function printExtractRows(rows: readonly ExtractRow[]): void {
  console.log(`  ${'step'.padEnd(40)} page KB   p50 µs   mean µs   core at 2,000 pages/s`);
  for (const r of rows) console.log(`  ${r.what.padEnd(40)} ${r.pageKB.toFixed(1).padStart(7)} ${r.p50us.toFixed(2).padStart(8)} ${r.meanUs.toFixed(2).padStart(9)} ${r.coreAt2000PagesPerSec.toFixed(4).padStart(10)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) printExtractRows(await runExtractBench());
