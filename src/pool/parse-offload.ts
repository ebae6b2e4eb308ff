/**
 * Large request bodies are parsed on the worker pool (a named task, src/request/summary-task.ts), so a long
 * prompt never stalls the event loop that every other stream shares. Hand-off costs a task round trip and
 * a copy of the body, so only bodies of at least `minBytes` go (bench/parse-offload.bench.ts measures where
 * that pays). When the pool cannot run the task (full queue, a worker that crashed or ran past its time)
 * the worker pool runs it inline, and counts and logs why.
 */
import os from 'node:os';
import type { ParseInput, ParsedRequest } from '../framework/parser.js';
import type { WorkerTasks } from '../framework/worker-tasks.js';
import type { BodySummary } from '../request/openai-summary.js';
import { parsedFromSummary } from '../request/openai-summary.js';
import { SUMMARY_TASK, type SummaryInput } from '../request/summary-task.js';

export interface ParseOffloadOptions {
  readonly pool: WorkerTasks;
  /** Bodies smaller than this are parsed inline. */
  readonly minBytes: number;
  /** A parse not done this long after a worker started it is abandoned (its worker replaced) and run inline. */
  readonly taskTimeoutMs?: number;
}

/**
 * `--workers auto`. Without pooled work: one thread per core beyond two, so none on a 2-core machine.
 * Measured here (2 cores): a 400 KB body costs ~0.6 ms more CPU in all through a worker, against ~1 ms of
 * main-thread time saved; with the load generator on the other core, the EPP then served 142 instead of 200
 * such requests a second, so body parsing alone does not earn a thread there. With pooled work configured
 * (a plugin that runs worker tasks, or a scorer placed on the pool) at least one thread, up to one per core
 * but one: that work (tokenizing 400 KB costs ~250 ms) would otherwise stall the event loop outright.
 */
export function autoWorkers(cores = os.availableParallelism(), pooledWork = false): number {
  return pooledWork ? Math.max(1, cores - 1) : Math.max(0, cores - 2);
}

export class ParseOffload {
  readonly #o: ParseOffloadOptions;
  #offloaded = 0;

  constructor(options: ParseOffloadOptions) {
    if (!Number.isFinite(options.minBytes) || options.minBytes < 0) throw new RangeError(`ParseOffload: options.minBytes must be >= 0, got ${options.minBytes}`);
    this.#o = options;
  }

  /** Bodies handed to the worker pool. */
  get stats(): { offloaded: number } {
    return { offloaded: this.#offloaded };
  }

  wants(body: Uint8Array): boolean {
    return this.#o.pool.threads > 0 && body.length >= this.#o.minBytes;
  }

  async parse(input: ParseInput): Promise<ParsedRequest> {
    this.#offloaded++;
    // The body is copied to the worker (structured clone): the main thread still sends it on to Envoy.
    const summary = await this.#o.pool.run<SummaryInput, BodySummary>(SUMMARY_TASK, { path: input.path, body: input.body }, this.#o.taskTimeoutMs ? { timeoutMs: this.#o.taskTimeoutMs } : {});
    return parsedFromSummary(input.body, summary);
  }
}
