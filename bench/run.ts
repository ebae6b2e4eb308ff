/** `npm run bench`: every suite, one process, results as a table. Timings never gate tests. */
import { runSchedulingBench } from './scheduling.bench.js';
import { runExtractBench } from './extract.bench.js';
import { runScrapeBench } from './scrape.bench.js';
import { runParseOffloadBench } from './parse-offload.bench.js';
import { runMemoryBench } from './memory.bench.js';
import { runPrefixBench } from './prefix.bench.js';

const fmt = (n: number) => n.toFixed(1).padStart(9);

console.log(`node ${process.version}, ${process.arch}`);
console.log('\nScheduling, default profile (queue 2 / kv 2 / prefix 3), 4 KB prompt, inline, full pick cycle');
console.log('endpoints   p50 µs    p99 µs   mean µs    cycles/s');
for (const row of await runSchedulingBench()) {
  console.log(`${String(row.endpoints).padStart(9)}${fmt(row.p50us)} ${fmt(row.p99us)} ${fmt(row.meanUs)} ${row.opsPerSec.toFixed(0).padStart(10)}`);
}

const px = await runPrefixBench();
console.log(`\nPrefix index: WebAssembly chain over a 4 KB prompt ${px.chain4kbUs.toFixed(1)} µs; match + learn per request on 64 full, evicting LRUs (48 new blocks of 64): ${px.compactChurnUs.toFixed(1)} µs typed arrays, ${px.referenceChurnUs.toFixed(1)} µs the Map-per-endpoint index it replaced`);

const ex = await runExtractBench();
console.log(`\nMetrics extraction, vLLM page of ${ex.pageKB.toFixed(1)} KB: p50 ${ex.p50us.toFixed(1)} µs per page, ${ex.coreAt2000PagesPerSec.toFixed(3)} core at 2,000 pages/s (100 pods every 50 ms)`);

const scrape = await runScrapeBench();
console.log(
  `\nScraping, ${scrape.endpoints} endpoints every 50 ms for ${scrape.seconds.toFixed(1)} s: ${scrape.pagesPerSec.toFixed(0)} pages/s, ` +
    `collector CPU ${scrape.cores.toFixed(3)} core (page servers run in another process)`,
);

console.log('\nBody parsing: main-thread time per request, inline against a worker (event-loop utilisation; the worker\'s own time not counted)');
console.log('  body KB   inline µs   worker µs   worker latency µs');
for (const r of await runParseOffloadBench()) {
  console.log(`${String(r.bodyKB).padStart(9)} ${r.inlineMainUs.toFixed(0).padStart(11)} ${r.offloadMainUs.toFixed(0).padStart(11)} ${r.offloadLatencyUs.toFixed(0).padStart(19)}`);
}

const m = await runMemoryBench();
console.log(`\nMemory: ${m.pods} pods scraped every 50 ms, each pod's prefix LRU full (${m.blocks} blocks): RSS ${m.rssMiB.toFixed(1)} MiB, heap used ${m.heapUsedMiB.toFixed(1)} MiB`);
console.log(`  per cached block: ${m.rssBytesPerBlock.toFixed(1)} bytes of RSS (${m.indexBytesPerBlock.toFixed(1)} bytes of index arrays allocated)`);
