import { readFileSync } from 'node:fs';
/** `npm run bench`: every suite, one process, results as a table. Timings never gate tests. */
import { runSchedulingBench } from './scheduling.bench.js';
import { printExtractRows, runExtractBench } from './extract.bench.js';
import { runScrapeBench } from './scrape.bench.js';
import { runParseOffloadBench } from './parse-offload.bench.js';
import { runMemoryBench } from './memory.bench.js';
import { runPrefixBench } from './prefix.bench.js';
import { runXxhashBench } from './xxhash.bench.js';
import { printFlowControlBench } from './flow-control.bench.js';
import { printPreciseBench } from './precise.bench.js';
import { runDefaultPathBench, runHandOffBench, runSnapshotShippingBench, runWorkersTable } from './engine.bench.js';

const fmt = (n: number) => n.toFixed(1).padStart(9);

console.log(`node ${process.version}, ${process.arch}`);
console.log('\nScheduling, default profile (queue 2 / kv 2 / prefix 3), 4 KB prompt, inline, full pick cycle');
console.log('endpoints   p50 µs    p99 µs   mean µs    cycles/s');
for (const row of await runSchedulingBench()) {
  console.log(`${String(row.endpoints).padStart(9)}${fmt(row.p50us)} ${fmt(row.p99us)} ${fmt(row.meanUs)} ${row.opsPerSec.toFixed(0).padStart(10)}`);
}
console.log('\nScheduling, examples/configs/pd.yaml (decode, then prefill when the decider asks), pods half prefill, half decode');
console.log('endpoints   p50 µs    p99 µs   mean µs    cycles/s');
const pdConfig = readFileSync(new URL('../../examples/configs/pd.yaml', import.meta.url), 'utf8');
for (const row of await runSchedulingBench([64], 4096, pdConfig, (i) => ({ 'llm-d.ai/role': i % 2 === 0 ? 'prefill' : 'decode' }))) {
  console.log(`${String(row.endpoints).padStart(9)}${fmt(row.p50us)} ${fmt(row.p99us)} ${fmt(row.meanUs)} ${row.opsPerSec.toFixed(0).padStart(10)}`);
}

const px = await runPrefixBench();
console.log(`\nPrefix index: WebAssembly chain over a 4 KB prompt ${px.chain4kbUs.toFixed(1)} µs; match + learn per request on 64 full, evicting LRUs (48 new blocks of 64): ${px.compactChurnUs.toFixed(1)} µs typed arrays, ${px.referenceChurnUs.toFixed(1)} µs the Map-per-endpoint index it replaced`);

console.log('\nScrape steps outside the socket, per page: reading the response, extracting the metrics (vLLM page)');
printExtractRows(await runExtractBench());

for (const nameFilter of [false, true]) {
  const scrape = await runScrapeBench(100, 5, nameFilter);
  console.log(
    `\nScraping, ${scrape.endpoints} endpoints every 50 ms for ${scrape.seconds.toFixed(1)} s, ${nameFilter ? 'mapped series only (?name[]=)' : 'whole page'}: ${scrape.pagesPerSec.toFixed(0)} pages/s, ` +
      `collector CPU ${scrape.cores.toFixed(3)} core (page servers run in another process)`,
  );
}

console.log('\nBody parsing: main-thread time per request, inline against a worker (event-loop utilisation; the worker\'s own time not counted)');
console.log('  body KB   inline µs   worker µs   worker latency µs');
for (const r of await runParseOffloadBench()) {
  console.log(`${String(r.bodyKB).padStart(9)} ${r.inlineMainUs.toFixed(0).padStart(11)} ${r.offloadMainUs.toFixed(0).padStart(11)} ${r.offloadLatencyUs.toFixed(0).padStart(19)}`);
}

const m = await runMemoryBench();
console.log(`\nMemory: ${m.pods} pods scraped every 50 ms, each pod's prefix LRU full (${m.blocks} blocks): RSS ${m.rssMiB.toFixed(1)} MiB, heap used ${m.heapUsedMiB.toFixed(1)} MiB`);
console.log(`  per cached block: ${m.rssBytesPerBlock.toFixed(1)} bytes of RSS (${m.indexBytesPerBlock.toFixed(1)} bytes of index arrays allocated)`);

console.log('\nxxh64 prefix chain, 64-byte blocks: the assembled WebAssembly function against xxhash-wasm (same keys)');
console.log('  prompt KB   blocks   assembled µs   xxhash-wasm µs');
for (const r of await runXxhashBench()) {
  console.log(`${String(r.promptKB).padStart(11)} ${String(r.blocks).padStart(8)} ${r.handUs.toFixed(1).padStart(14)} ${r.libraryUs.toFixed(1).padStart(16)}`);
}

console.log('\nWorker pool: snapshot shipping per epoch (main thread), µs');
console.log('  endpoints   columns   columns+static repack   msgpackr whole   structured clone');
for (const r of await runSnapshotShippingBench()) {
  console.log(`${String(r.endpoints).padStart(11)} ${r.columnsUs.toFixed(1).padStart(9)} ${r.columnsRepackUs.toFixed(1).padStart(23)} ${r.msgpackrWholeUs.toFixed(1).padStart(16)} ${r.structuredCloneUs.toFixed(1).padStart(18)}`);
}

console.log('\nWorker pool: hand-off per pooled scoring task (default profile, KV scorer forced onto 1 worker, 64 endpoints)');
console.log('  mode                              main µs/req   wall µs/req   p99 µs   tasks/job');
for (const r of await runHandOffBench()) {
  console.log(`  ${r.mode.padEnd(32)} ${r.mainUs.toFixed(1).padStart(12)} ${r.wallUs.toFixed(1).padStart(13)} ${r.p99Us.toFixed(0).padStart(8)} ${r.tasksPerJob.toFixed(2).padStart(11)}`);
}

console.log('\nWorker pool: default profile + a 500 µs pool-capable scorer, 8 requests at a time');
console.log('  workers   cycles/s   main µs/cycle   p99 µs');
for (const r of await runWorkersTable()) {
  console.log(`${String(r.workers).padStart(9)} ${r.perSec.toFixed(0).padStart(10)} ${r.mainUs.toFixed(1).padStart(15)} ${r.p99Us.toFixed(0).padStart(8)}`);
}

console.log('\nDefault profile, 4 KB, 64 endpoints: nothing pooled, with and without worker threads (A B A B)');
for (const r of await runDefaultPathBench()) console.log(`  ${r.mode.padEnd(30)} mean ${r.meanUs.toFixed(1).padStart(7)} µs   p99 ${r.p99Us.toFixed(1).padStart(7)} µs`);

await printFlowControlBench();
await printPreciseBench();
