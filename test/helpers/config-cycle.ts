/** A config loaded and wired as the director wires it (producers → scheduler → PreRequest → reservation). */
import { readFileSync } from 'node:fs';
import { Registry } from '../../src/framework/registry.js';
import type { PluginServices } from '../../src/framework/plugin.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';
import { loadConfig, type LoadedConfig } from '../../src/config/loader.js';
import { ProfileScheduler } from '../../src/scheduling/scheduler.js';
import { PickCycle } from '../../src/director/pick-cycle.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { testServices } from './fixtures.js';

export interface ConfigCycle {
  readonly config: LoadedConfig;
  readonly cycle: PickCycle;
  readonly tracker: LoadTracker;
  readonly warnings: string[];
}

export function cycleFromConfig(configText: string, services: PluginServices = testServices(), tracker = new LoadTracker(() => 1_000)): ConfigCycle {
  const warnings: string[] = [];
  const config = loadConfig({ configText }, registerInTreePlugins(new Registry()), services, { warn: (m) => warnings.push(m) });
  const cycle = new PickCycle({ producers: config.producers, scheduler: new ProfileScheduler(config.scheduler), preRequests: config.preRequests, loadTracker: tracker });
  return { config, cycle, tracker, warnings };
}

/** test/fixtures/llm-d/<name>: a sample config from llm-d-router's deploy/config, verbatim. */
export function llmdSample(name: string): string {
  return readFileSync(new URL(`../../../test/fixtures/llm-d/${name}`, import.meta.url), 'utf8');
}

/** examples/configs/<name>, read from the repository (tests run from dist/). */
export function exampleConfig(name: string): string {
  return readFileSync(new URL(`../../../examples/configs/${name}`, import.meta.url), 'utf8');
}
