import type { PluginRegistration } from '../../framework/plugin.js';
import type { EngineMapping, MetricsMapper } from '../../framework/datalayer.js';
import { ConfigError } from '../../errors.js';
import { compileEngines, DEFAULT_ENGINE, ENGINE_LABEL_KEY, type EngineConfig } from './engines.js';
import { paramsOf } from '../shared/params.js';

export const CORE_METRICS_EXTRACTOR = 'core-metrics-extractor';

const SPEC_FIELDS = [
  'queuedRequestsSpec',
  'runningRequestsSpec',
  'kvUsageSpec',
  'loraSpec',
  'cacheInfoSpec',
  'cacheBlockSizeLabelName',
  'cacheNumBlocksLabelName',
  'cacheBlockSizeSpec',
  'cacheNumBlocksSpec',
] as const;

/** Which series hold each engine's figures, and which pod label names a pod's engine. */
export class CoreMetricsExtractor implements MetricsMapper {
  readonly type = CORE_METRICS_EXTRACTOR;
  constructor(
    readonly name: string,
    readonly engines: ReadonlyMap<string, EngineMapping>,
    readonly engineLabelKey: string,
    readonly defaultEngine: string,
  ) {}
}

function engineConfigs(raw: unknown): EngineConfig[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ConfigError('parameters.engineConfigs', 'must be a list of engine configs');
  return raw.map((entry: unknown, i) => {
    const at = `parameters.engineConfigs[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigError(at, 'must be a mapping');
    const e = entry as Record<string, unknown>;
    for (const field of ['name', ...SPEC_FIELDS]) {
      if (e[field] !== undefined && typeof e[field] !== 'string') throw new ConfigError(`${at}.${field}`, `must be a string, got ${JSON.stringify(e[field])}`);
    }
    return e as unknown as EngineConfig;
  });
}

export const registration: PluginRegistration = {
  type: CORE_METRICS_EXTRACTOR,
  factory: (name, parameters) => {
    const p = paramsOf(parameters);
    const str = (key: string, fallback: string) => {
      const v = p[key];
      if (v === undefined || v === null || v === '') return fallback;
      if (typeof v !== 'string') throw new ConfigError(`parameters.${key}`, `must be a string, got ${JSON.stringify(v)}`);
      return v;
    };
    const engines = compileEngines(engineConfigs(p['engineConfigs']));
    const defaultEngine = str('defaultEngine', DEFAULT_ENGINE);
    if (!engines.has(defaultEngine)) {
      throw new ConfigError('parameters.defaultEngine', `engine "${defaultEngine}" is not in engineConfigs or the built-ins (${[...engines.keys()].join(', ')})`);
    }
    return new CoreMetricsExtractor(name, engines, str('engineLabelKey', ENGINE_LABEL_KEY), defaultEngine);
  },
};
