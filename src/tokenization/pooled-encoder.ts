/**
 * A SegmentEncoder that sends the segments the cache missed to the EPP's worker pool (the engine's named
 * tasks), so encoding a long prompt never runs on the event loop; the cache itself stays on the main
 * thread, shared by every request whichever worker encodes for it. Short texts, and everything when the
 * pool has no threads, are encoded from the main thread: the native encode runs on libuv's threads there
 * too, only copying the ids out is on the main thread.
 */
import type { WorkerTasks, TaskRef } from '../framework/worker-tasks.js';
import type { SegmentEncoder } from './native-encoder.js';
import type { EncodeInput } from './encode-task.js';

const ENCODE_MODULE = new URL('./encode-task.js', import.meta.url);

/** The task for `dir`: its module URL names the folder, so a thread that imports it builds the tokenizer. */
export function encodeTask(dir: string): TaskRef {
  const url = new URL(ENCODE_MODULE);
  url.searchParams.set('dir', dir);
  return { module: url.href, name: 'encode' };
}

/** A worker past this (from when it started the task) is replaced and the task re-run inline. */
const TASK_TIMEOUT_MS = 30_000;

/**
 * Missing text below this many characters (~8 K tokens) is encoded from the main thread: the main
 * thread's share (copying the ids out, ~2 ms at this size) costs less than a worker round trip, and a
 * short turn never queues behind a 100 K-token prompt on the worker.
 */
export const INLINE_BELOW_CHARS = 32_768;

type EncodeModule = { encode(input: EncodeInput): Promise<Uint32Array[]> };

export class PooledEncoder implements SegmentEncoder {
  readonly task: TaskRef;
  #local: Promise<EncodeModule> | undefined;

  constructor(
    readonly tasks: WorkerTasks,
    readonly dir: string,
  ) {
    this.task = encodeTask(dir);
  }

  encode(texts: readonly string[]): Promise<Uint32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    let chars = 0;
    for (const t of texts) chars += t.length;
    if (chars < INLINE_BELOW_CHARS || this.tasks.threads === 0) return this.#module().then((m) => m.encode({ dir: this.dir, texts }));
    return this.tasks.run<EncodeInput, Uint32Array[]>(this.task, { dir: this.dir, texts }, { timeoutMs: TASK_TIMEOUT_MS });
  }

  /**
   * Builds the tokenizer everywhere before the first request: threads started later import the module
   * (and so build it) as they start, threads already running now, and the main thread now.
   */
  warm(): Promise<void> {
    return Promise.all([this.tasks.preload(this.task.module), this.#module()]).then(() => undefined);
  }

  /** The same module instance the pool's inline runs use (same URL): one tokenizer on the main thread. */
  #module(): Promise<EncodeModule> {
    return (this.#local ??= import(this.task.module) as Promise<EncodeModule>);
  }
}
