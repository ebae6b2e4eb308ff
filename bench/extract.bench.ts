/**
 * Metrics extraction from a realistic vLLM page (~47 KB): the parsing share of scraping. The scrape rate
 * that matters is 100 pods × 20/s = 2,000 pages/s, so the table also gives the core share at that rate.
 */
import { Bench } from 'tinybench';
import { MetricsExtractor } from '../src/datalayer/extract.js';
import { ENGINES } from '../src/plugins/core-metrics-extractor/engines.js';
import { vllmPage } from '../test/helpers/vllm-page.js';

export interface ExtractRow {
  pageKB: number;
  p50us: number;
  coreAt2000PagesPerSec: number;
}

export async function runExtractBench(): Promise<ExtractRow> {
  const page = Buffer.from(vllmPage(), 'latin1'); // as it comes off the wire
  const extractor = new MetricsExtractor(ENGINES.get('vllm')!);
  const bench = new Bench({ time: 1500, warmupTime: 300 });
  bench.add('extract', () => {
    extractor.extract(page);
  });
  await bench.run();
  const r = bench.tasks[0]!.result as unknown as { latency: { p50: number; mean: number } };
  return { pageKB: page.length / 1024, p50us: r.latency.p50 * 1000, coreAt2000PagesPerSec: (r.latency.mean * 1000 * 2000) / 1e6 };
}
