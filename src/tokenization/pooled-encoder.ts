/**
 * A SegmentEncoder that sends the segments the cache missed to the EPP's worker pool (the engine's named
 * tasks), so encoding a long prompt never runs on the event loop; the cache itself stays on the main
 * thread, shared by every request whichever worker encodes for it. Without threads the pool runs the task
 * inline: the native encode still runs on libuv's threads, only copying the ids out is on the main thread.
 */
import type { WorkerTasks, TaskRef } from '../framework/worker-tasks.js';
import type { SegmentEncoder } from './native-encoder.js';
import type { EncodeInput } from './encode-task.js';

export const ENCODE_TASK: TaskRef = { module: new URL('./encode-task.js', import.meta.url).href, name: 'encode' };

/** A worker past this (from when it started the task) is replaced and the task re-run inline. */
const TASK_TIMEOUT_MS = 30_000;

export class PooledEncoder implements SegmentEncoder {
  constructor(
    readonly tasks: WorkerTasks,
    readonly dir: string,
  ) {}

  encode(texts: readonly string[]): Promise<Uint32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    return this.tasks.run<EncodeInput, Uint32Array[]>(ENCODE_TASK, { dir: this.dir, texts }, { timeoutMs: TASK_TIMEOUT_MS });
  }

  /**
   * Loads the tokenizer on every thread before the first request: the module on each thread, then one
   * small task per thread (idle threads take one each).
   */
  async warm(): Promise<void> {
    const threads = this.tasks.threads;
    if (threads === 0) return;
    await this.tasks.preload(ENCODE_TASK.module);
    await Promise.all(Array.from({ length: threads }, () => this.encode(['warm-up'])));
  }
}
