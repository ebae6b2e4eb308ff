import type { z } from 'zod';

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

/**
 * A plugin that names other plugins in its parameters (a handler's deciders, a decision tree's filters)
 * resolves them here, called by the loader once every plugin of the config exists, so a config may define
 * them in any order. It throws a ConfigError naming the parameter when a reference is wrong.
 */
export interface ReferencingPlugin extends Plugin {
  resolveReferences(): void;
}

export function isReferencingPlugin(p: Plugin): p is ReferencingPlugin {
  return typeof (p as Partial<ReferencingPlugin>).resolveReferences === 'function';
}

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
  /** Where plugins publish their own metrics (the EPP's Prometheus registry); absent in bare tests. */
  readonly metrics?: PluginMetrics;
}

/** A counter with fixed label names; `inc` takes the label values in that order. */
export interface PluginCounter {
  inc(labelValues: readonly string[], by?: number): void;
}

/** A gauge with fixed label names; a series a plugin no longer tracks is removed. */
export interface PluginGauge {
  set(labelValues: readonly string[], value: number): void;
  remove(labelValues: readonly string[]): void;
}

export interface PluginMetrics {
  /** The counter `name`; asking twice for one name returns the same counter (several plugin instances share it). */
  counter(name: string, help: string, labelNames: readonly string[]): PluginCounter;
  /**
   * The gauge `name`, shared like counters. `collect`, when given, runs at every scrape to set values that
   * are cheaper computed on demand than kept current.
   */
  gauge?(name: string, help: string, labelNames: readonly string[], collect?: (gauge: PluginGauge) => void): PluginGauge;
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
  /**
   * The parameters the plugin knows, as a zod object schema (its keys are the parameter names). The loader
   * warns about any other key, naming the closest known one; the factory validates the values.
   */
  readonly parameters?: z.ZodObject;
  /**
   * For out-of-tree pool-capable plugins: the module (file URL) that exports this registration as
   * `registration`, so worker threads can build the plugin too. In-tree plugins need none.
   */
  readonly module?: string;
}
