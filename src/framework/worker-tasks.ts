/**
 * Named tasks on the EPP's worker-thread pool (`--workers`), for plugins and producers with work that would
 * stall the event loop (tokenizing a long prompt, hashing 100 K tokens). A task is a function exported by
 * an ES module. The pool's threads import the module once each and keep it, so what the module builds at
 * load (a tokenizer from an 11 MB tokenizer.json) is built once per thread; inline runs import it once on
 * the main thread the same way.
 *
 * `run` never fails because of the pool: with no threads, a full queue, a crashed worker or one stuck past
 * its time limit, the task runs inline on the main thread (each such fallback is counted and logged with
 * its reason). It fails only when the task itself throws, wherever it ran.
 */

/** Which function: `module` is a file URL (`new URL('./tasks.js', import.meta.url).href`) or an absolute path. */
export interface TaskRef {
  readonly module: string;
  /** The export to call; its one argument is the task's input, its result (or a promise of it) the output. */
  readonly name: string;
}

export interface TaskOptions {
  /**
   * Wall time the task may run on a worker, counted from when a worker starts it (not from when it was
   * queued). Past it the worker is replaced and the task re-run inline. Default: the pool's (5 s).
   */
  readonly timeoutMs?: number;
  /**
   * False keeps the task off the main thread: when the pool cannot run it, `run` rejects with a
   * WorkerTaskUnavailable error instead of running it inline. Default true.
   */
  readonly inlineFallback?: boolean;
}

export interface WorkerTasks {
  /** Threads in the pool now; 0 means every task runs inline. */
  readonly threads: number;
  /**
   * Runs `task` with `input` (copied to the worker by structured clone: plain data, typed arrays, Maps).
   * Resolves with the task's output; rejects with what the task threw.
   */
  run<I, O>(task: TaskRef, input: I, options?: TaskOptions): Promise<O>;
  /**
   * Imports `module` on every thread now (and on threads that replace them), so the first request does not
   * pay its load time. Resolves when every current thread has it; rejects when the import fails.
   */
  preload(module: string): Promise<void>;
}

/** The error `run` rejects with when the pool cannot run a task and `inlineFallback` is false. */
export const WORKER_TASK_UNAVAILABLE = 'WorkerTaskUnavailable';

/**
 * A plugin that runs named tasks declares it, so `--workers auto` starts threads for it even on a
 * 2-core machine (there the alternative is stalling the event loop).
 */
export interface UsesWorkerTasks {
  readonly usesWorkerTasks: true;
}

export function usesWorkerTasks(p: object): p is UsesWorkerTasks {
  return (p as Partial<UsesWorkerTasks>).usesWorkerTasks === true;
}
