/**
 * Loads an EndpointPickerConfig from `--config-file`, `--config-text`, or the built-in default, in two
 * phases: parse and validate the whole document, then instantiate plugins and apply defaults.
 */
import { readFileSync } from 'node:fs';
import type { PluginServices } from '../framework/plugin.js';
import type { Registry } from '../framework/registry.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_CONFIG_TEXT } from './defaults.js';
import { resolve } from 'node:path';
import { parseConfig, parseConfigDocument } from './parse.js';
import { instantiateConfig, type ConfigLogger, type LoadedConfig } from './instantiate.js';

export type { ConfigLogger, LoadedConfig };
export { parseConfig, instantiateConfig, DEFAULT_CONFIG_TEXT };

export interface ConfigSource {
  readonly configFile?: string | undefined;
  readonly configText?: string | undefined;
}

export function readConfigText(source: ConfigSource): { text: string; origin: string } {
  if (source.configFile && source.configText) throw new ConfigError('', 'only one of --config-file and --config-text may be set');
  if (source.configFile) {
    try {
      return { text: readFileSync(source.configFile, 'utf8'), origin: source.configFile };
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new ConfigError('--config-file', `cannot read "${source.configFile}": ${why}`);
    }
  }
  if (source.configText) return { text: source.configText, origin: '--config-text' };
  return { text: DEFAULT_CONFIG_TEXT, origin: 'the default config' };
}

export function loadConfig(source: ConfigSource, registry: Registry, services: PluginServices, logger: ConfigLogger): LoadedConfig {
  const { text, origin } = readConfigText(source);
  const { raw, locate } = parseConfigDocument(text, origin);
  /** Errors from later layers (data layer, plugins starting) are placed in the file the same way. */
  const place = (err: ConfigError) => (err.location || err.path.startsWith('-') ? err : err.at(locate(err.path) ?? origin));
  let config: LoadedConfig;
  try {
    config = instantiateConfig(raw, registry, services, logger, (path) => locate(path));
  } catch (err) {
    throw err instanceof ConfigError ? place(err) : err;
  }
  logger.info?.(source.configFile ? `config loaded from ${resolve(source.configFile)}` : `config loaded from ${origin}`);
  return { ...config, origin, locate: place };
}
