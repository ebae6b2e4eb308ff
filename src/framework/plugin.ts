/**
 * Plugin identity and construction. Every plugin has a `type` (what it is, as written in config) and a
 * `name` (which instance, referenced by `pluginRef`). Factories turn config parameters into instances.
 */

import type { WorkerTasks } from './worker-tasks.js';

export interface PluginIdentity {
  readonly type: string;
  readonly name: string;
}

export interface Plugin extends PluginIdentity {}

/** What a factory may ask of the loader while it builds a plugin. */
export interface PluginHandle {
  /** Logs a warning that names the plugin (e.g. ignored parameters). */
  warn(message: string): void;
  /** A plugin instantiated earlier in the config, by name; undefined when absent. */
  plugin(name: string): Plugin | undefined;
  /** Shared services (random source, clock, worker tasks) the runtime provides. */
  readonly services: PluginServices;
}

/** Randomness goes through one injectable source so tests are deterministic. */
export interface RandomSource {
  /** A float in [0, 1). */
  next(): number;
}

export interface PluginServices {
  readonly random: RandomSource;
  /** Milliseconds; injectable so staleness and LRU ages are testable. */
  readonly now: () => number;
  /** Named tasks on the worker-thread pool, inline when it has no threads (see worker-tasks.ts). */
  readonly workerTasks: WorkerTasks;
}

/**
 * Builds an instance from the `parameters` object of a config entry (undefined when absent).
 * It throws a ConfigError naming the parameter when parameters are invalid.
 */
export type PluginFactory = (name: string, parameters: unknown, handle: PluginHandle) => Plugin;

export interface PluginRegistration {
  readonly type: string;
  readonly factory: PluginFactory;
  /** True when the plugin takes no parameters: given ones are ignored with a warning, as the Go EPP does. */
  readonly takesNoParameters?: boolean;
}
