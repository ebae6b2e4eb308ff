/**
 * What the scoring engine needs from a loaded config: which plugins workers may be asked to build (every
 * pool-capable scorer, with its parameters), and which plugins need threads at all (`--workers auto`).
 */
import type { LoadedConfig } from '../config/instantiate.js';
import type { Registry } from '../framework/registry.js';
import { usesWorkerTasks } from '../framework/worker-tasks.js';
import { placementOf, type PlacementPolicy } from '../scheduling/placement.js';
import type { PluginSpec } from '../../workers/engine-worker.js';

function poolCapableScorers(config: LoadedConfig) {
  const seen = new Map<string, LoadedConfig['scheduler']['profiles'][number]['scorers'][number]['scorer']>();
  for (const profile of config.scheduler.profiles) for (const { scorer } of profile.scorers) if (scorer.poolCapable) seen.set(scorer.name, scorer);
  return [...seen.values()];
}

/**
 * Specs for every pool-capable scorer, so a worker can build the same instance. An out-of-tree type whose
 * registration names no `module` cannot be built there; it is left out (and stays inline).
 */
export function pooledPluginSpecs(config: LoadedConfig, registry: Registry, inTree: Registry): { specs: PluginSpec[]; inlineOnly: string[] } {
  const parameters = new Map((config.raw.plugins ?? []).map((p) => [p.name || p.type, p.parameters]));
  const specs: PluginSpec[] = [];
  const inlineOnly: string[] = [];
  for (const scorer of poolCapableScorers(config)) {
    const module = registry.get(scorer.type)?.module;
    if (!inTree.get(scorer.type) && !module) {
      inlineOnly.push(scorer.name);
      continue;
    }
    specs.push({ type: scorer.type, name: scorer.name, parameters: parameters.get(scorer.name), ...(module ? { module } : {}) });
  }
  return { specs, inlineOnly };
}

/** Plugins that need worker threads: those running worker tasks, and pool-capable scorers asked onto the pool. */
export function pooledWorkOf(config: LoadedConfig, placement: PlacementPolicy): string[] {
  const tasks = [...config.plugins.values()].filter(usesWorkerTasks).map((p) => p.name);
  const scorers = poolCapableScorers(config).filter((s) => placementOf(placement, s.name) === 'pool').map((s) => s.name);
  return [...new Set([...tasks, ...scorers])];
}
