/** `npm run bench:engine`: the worker pool's tables and the xxh64 comparison (also part of `npm run bench`). */
import { runXxhashBench } from './xxhash.bench.js';
import { runDefaultPathBench, runHandOffBench, runSnapshotShippingBench, runWorkersTable } from './engine.bench.js';
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
