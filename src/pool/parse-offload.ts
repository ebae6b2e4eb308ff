/**
 * Large request bodies are parsed on a Piscina worker pool, so a long prompt never stalls the event loop
 * that every other stream shares. The only importer of piscina. Hand-off costs a task round trip and a
 * copy of the body, so only bodies of at least `minBytes` go (bench/parse-offload.bench.ts measures where
 * that pays). Workers fail, requests don't: a task that fails or does not finish in time is parsed inline.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { ParseInput, ParsedRequest } from '../framework/parser.js';
import { EppError, errorCodeOf } from '../errors.js';
import { parsedFromSummary, summarizeOpenAiBody } from '../request/openai-summary.js';
import type { ParseTask, ParseTaskResult } from '../../workers/parse-worker.js';

export const PARSE_WORKER = fileURLToPath(new URL('../../workers/parse-worker.js', import.meta.url));

export interface ParseOffloadOptions {
  /** Worker threads; 0 disables offloading. */
  readonly workers: number;
  /** Bodies smaller than this are parsed inline. */
  readonly minBytes: number;
  /** A task not done by then is abandoned (its worker replaced) and the body parsed inline. */
  readonly taskTimeoutMs?: number;
  readonly log?: { warn(obj: object, msg: string): void };
  /** The worker script and its workerData (tests substitute a failing one). */
  readonly filename?: string;
  readonly workerData?: unknown;
}

/**
 * `--workers auto`: one thread per core beyond two, so none on a 2-core machine. Measured here (2 cores):
 * a 400 KB body costs ~0.6 ms more CPU in all through a worker (the round trip, not the copy: shared
 * memory saves nothing), against ~1 ms of main-thread time saved; with the load generator on the other
 * core, the EPP then served 142 instead of 200 such requests a second. Offloading pays where cores are
 * spare, not where the event loop and the worker would share one.
 */
export function autoWorkers(cores = os.availableParallelism()): number {
  return Math.max(0, cores - 2);
}

export class ParseOffload {
  readonly #pool: Piscina<ParseTask, ParseTaskResult>;
  readonly #o: ParseOffloadOptions;
  #offloaded = 0;
  #fallbacks = 0;

  constructor(options: ParseOffloadOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError(`ParseOffload: options.workers must be an integer >= 1, got ${options.workers}`);
    if (!Number.isFinite(options.minBytes) || options.minBytes < 0) throw new RangeError(`ParseOffload: options.minBytes must be >= 0, got ${options.minBytes}`);
    this.#o = options;
    this.#pool = new Piscina({
      filename: options.filename ?? PARSE_WORKER,
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: 60_000,
      workerData: options.workerData,
    });
  }

  /** Tasks sent to the pool, and those that fell back to inline parsing. */
  get stats(): { offloaded: number; fallbacks: number } {
    return { offloaded: this.#offloaded, fallbacks: this.#fallbacks };
  }

  wants(body: Uint8Array): boolean {
    return body.length >= this.#o.minBytes;
  }

  async parse(input: ParseInput): Promise<ParsedRequest> {
    this.#offloaded++;
    let result: ParseTaskResult;
    try {
      // The body is copied to the worker (structured clone): the main thread still sends it on to Envoy.
      result = await this.#pool.run({ path: input.path, body: input.body }, { signal: AbortSignal.timeout(this.#o.taskTimeoutMs ?? 5000) });
    } catch (err) {
      this.#fallbacks++;
      this.#o.log?.warn({ err: (err as Error).message }, 'parse worker failed; parsing inline');
      const { summary, json } = summarizeOpenAiBody(input.path, input.body);
      return parsedFromSummary(input.body, summary, json);
    }
    if (!result.ok) throw new EppError(errorCodeOf(result.code), result.message);
    return parsedFromSummary(input.body, result.summary);
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
