/**
 * Memory at pool scale: 100 pods scraped every 50 ms and each pod's approximate prefix LRU full (31,250
 * blocks, llm-d's lruCapacityPerServer default), measured in a fresh process (bench/memory-child.ts) after
 * forced GCs: RSS and V8 heap, and what one cached block costs.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnNode, stop } from './server.bench.js';

export interface MemoryRow {
  pods: number;
  blocks: number;
  distinct: number;
  fillMs: number;
  rssMiB: number;
  heapUsedMiB: number;
  arrayBuffersMiB: number;
  /** RSS / index arrays added by filling the index, per cached block. */
  rssBytesPerBlock: number;
  indexBytesPerBlock: number;
  /** RSS with the pods scraped and the index still empty. */
  scrapedRssMiB: number;
}

interface ChildReport {
  pods: number;
  blocks: number;
  distinct: number;
  indexBytes: number;
  fillMs: number;
  scraped: { rss: number; heapUsed: number; arrayBuffers: number };
  full: { rss: number; heapUsed: number; arrayBuffers: number };
}

const MiB = 1024 * 1024;

export async function runMemoryBench(pods = 100): Promise<MemoryRow> {
  const children = new Set<ChildProcess>();
  try {
    const pages = await spawnNode<number[]>('./page-servers.js', [String(pods)], children);
    const { info: r } = await spawnNode<ChildReport>('./memory-child.js', [JSON.stringify(pages.info)], children, 120_000, process.env, ['--expose-gc']);
    return {
      pods: r.pods,
      blocks: r.blocks,
      distinct: r.distinct,
      fillMs: r.fillMs,
      rssMiB: r.full.rss / MiB,
      heapUsedMiB: r.full.heapUsed / MiB,
      arrayBuffersMiB: r.full.arrayBuffers / MiB,
      rssBytesPerBlock: (r.full.rss - r.scraped.rss) / r.blocks,
      indexBytesPerBlock: r.indexBytes / r.blocks,
      scrapedRssMiB: r.scraped.rss / MiB,
    };
  } finally {
    await Promise.all([...children].map(stop));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const m = await runMemoryBench();
  console.log(`${m.pods} pods scraped every 50 ms, prefix LRU full: ${m.blocks} blocks (${m.distinct} distinct), filled in ${m.fillMs.toFixed(0)} ms`);
  console.log(`RSS ${m.rssMiB.toFixed(1)} MiB (${m.scrapedRssMiB.toFixed(1)} before the index filled), heap used ${m.heapUsedMiB.toFixed(1)} MiB, array buffers ${m.arrayBuffersMiB.toFixed(1)} MiB`);
  console.log(`per cached block: ${m.rssBytesPerBlock.toFixed(1)} bytes of RSS, ${m.indexBytesPerBlock.toFixed(1)} bytes of index arrays allocated`);
}
