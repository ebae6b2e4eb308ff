/**
 * The worker pool's series (ours; the Go EPP has no worker pool): tasks by where they ran, fallbacks to
 * inline by reason, and the thread count. Task labels are export names fixed in code, so the series are few.
 */
import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';
import type { FallbackReason, WorkerPoolObserver } from '../pool/worker-pool.js';

export class PromWorkerPoolObserver implements WorkerPoolObserver {
  readonly #tasks: Counter<'task' | 'where'>;
  readonly #fallbacks: Counter<'task' | 'reason'>;
  readonly #threads: Gauge;
  readonly #placement: Gauge<'profile' | 'plugin' | 'placement'>;

  constructor(registry: PromRegistry) {
    this.#tasks = new Counter({
      name: 'inference_extension_worker_tasks_total',
      help: 'Worker-pool tasks finished, by task and where they ran (worker or inline).',
      labelNames: ['task', 'where'],
      registers: [registry],
    });
    this.#fallbacks = new Counter({
      name: 'inference_extension_worker_fallbacks_total',
      help: 'Worker-pool tasks run inline instead, by task and reason (no-threads, queue-full, timeout, worker-error).',
      labelNames: ['task', 'reason'],
      registers: [registry],
    });
    this.#placement = new Gauge({
      name: 'inference_extension_plugin_placement',
      help: 'Where each scorer runs now (1): inline on the main thread or on the worker pool, by profile and plugin.',
      labelNames: ['profile', 'plugin', 'placement'],
      registers: [registry],
    });
    this.#threads = new Gauge({ name: 'inference_extension_worker_threads', help: 'Threads in the worker pool (0: everything inline).', registers: [registry] });
  }

  threads(n: number): void {
    this.#threads.set(n);
  }

  placement(profile: string, plugin: string, placement: 'inline' | 'pool'): void {
    this.#placement.set({ profile, plugin, placement }, 1);
    this.#placement.set({ profile, plugin, placement: placement === 'pool' ? 'inline' : 'pool' }, 0);
  }

  taskDone(task: string, where: 'worker' | 'inline'): void {
    this.#tasks.inc({ task, where });
  }

  fallback(task: string, reason: FallbackReason): void {
    this.#fallbacks.inc({ task, reason });
  }
}
