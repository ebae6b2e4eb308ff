import type { Plugin } from '../framework/plugin.js';
import { ConfigError } from '../errors.js';
import type { LoadedConfig } from './instantiate.js';

/**
 * The plugin a config section names (`parser.pluginRef`, `dataLayer.discovery.pluginRef`, …), checked to
 * be of the kind the section needs; the error names the section's path. The loader has already checked
 * that the name exists.
 */
export function pluginOf<T extends Plugin>(config: LoadedConfig, name: string, path: string, is: (p: Plugin) => p is T, kind: string): T {
  const plugin = config.plugins.get(name)!;
  if (!is(plugin)) throw new ConfigError(path, `plugin "${name}" (${plugin.type}) is not ${kind}`);
  return plugin;
}
