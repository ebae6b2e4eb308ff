/**
 * Piscina entry of the EPP's worker pool (src/pool/worker-pool.ts). It runs named tasks: a module's export,
 * the module imported once per thread and kept. Whatever a task throws comes back as a reply value (an
 * Error's `code` would not survive the thread boundary), so a rejected Piscina task always means the
 * worker itself failed.
 */
import { workerData } from 'node:worker_threads';
import type { PluginSpec, ScoreJob, ScoreReply } from './scoring.js';

export type { PluginSpec, ScoreJob, ScoreReply };

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

export type EngineReply = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: SerializedError };

export type EngineMessage =
  | { readonly kind: 'task'; readonly module: string; readonly name: string; readonly input: unknown; readonly slot?: number }
  | { readonly kind: 'preload'; readonly module: string; readonly slot?: number }
  | { readonly kind: 'ping'; readonly slot?: number }
  | { readonly kind: 'score'; readonly job: ScoreJob; readonly slot?: number }
  | { readonly kind: 'score-batch'; readonly jobs: readonly ScoreJob[]; readonly slot?: number };

/** What every thread starts with (Piscina's workerData). */
export interface WorkerSetup {
  /** Start stamps (ms since the epoch) this thread writes at `slot` when it begins a task. */
  readonly started: BigInt64Array;
  /** Modules to import before the first task. */
  readonly preload: readonly string[];
  /** Plugins a worker may be asked to score with, as the config built them. */
  readonly plugins: readonly PluginSpec[];
  /** Load the scoring side (every plugin module) as the thread starts, not at the first scoring task. */
  readonly preloadScoring?: boolean;
}

const setup = workerData as WorkerSetup;
const modules = new Map<string, Promise<Record<string, unknown>>>();

function load(module: string): Promise<Record<string, unknown>> {
  let loaded = modules.get(module);
  if (!loaded) {
    loaded = import(module) as Promise<Record<string, unknown>>;
    modules.set(module, loaded);
  }
  return loaded;
}

// Preloads start with the thread; a failed one surfaces when a task uses its module.
for (const m of setup.preload) load(m).catch(() => {});

/** The scoring side imports every plugin: loaded on the first scoring task unless preloaded. */
let scoring: Promise<typeof import('./scoring.js')> | undefined;
const scoringModule = () => (scoring ??= import('./scoring.js'));
if (setup.preloadScoring) scoringModule().catch(() => {});

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), ...(err.stack ? { stack: err.stack } : {}) };
  }
  return { name: 'Error', message: String(err) };
}

export default async function run(message: EngineMessage): Promise<EngineReply> {
  try {
    // A task's time limit counts from here: what this thread must load first is not charged to it.
    const scorer = message.kind === 'score' || message.kind === 'score-batch' ? await scoringModule() : undefined;
    if (message.slot !== undefined) Atomics.store(setup.started, message.slot, BigInt(Date.now()));
    switch (message.kind) {
      case 'preload':
        await load(message.module);
        return { ok: true, value: undefined };
      case 'ping':
        return { ok: true, value: undefined };
      case 'score':
        return { ok: true, value: await scorer!.scoreJob(message.job, setup.plugins) };
      case 'score-batch': {
        const replies: ScoreReply[] = [];
        for (const job of message.jobs) replies.push(await scorer!.scoreJob(job, setup.plugins));
        return { ok: true, value: replies };
      }
      case 'task': {
        const fn = (await load(message.module))[message.name];
        if (typeof fn !== 'function') throw new Error(`task "${message.name}" is not a function exported by ${message.module}`);
        return { ok: true, value: await (fn as (input: unknown) => unknown)(message.input) };
      }
    }
  } catch (err) {
    return { ok: false, error: serializeError(err) };
  }
}
