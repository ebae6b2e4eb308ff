import type { PluginRegistration } from '../../framework/plugin.js';
import type { EngineMapping, MetricsMapper } from '../../framework/datalayer.js';
import { ConfigError } from '../../errors.js';
import { compileEngines, DEFAULT_ENGINE, ENGINE_LABEL_KEY, type EngineConfig } from './engines.js';
import { z } from 'zod';
import { param, parseParameters } from '../shared/params.js';

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

const customMetric = z.object(
  { attributeKey: z.string({ error: 'is required: the attribute name' }), metricSpec: z.string({ error: 'is required: a series selector such as name{label=value}' }) },
  { error: 'must be a mapping {attributeKey, metricSpec}' },
);

const engineConfig = z.object(
  {
    ...(Object.fromEntries(['name', ...SPEC_FIELDS].map((f) => [f, param.string()])) as Record<'name' | (typeof SPEC_FIELDS)[number], ReturnType<typeof param.string>>),
    customMetrics: z.array(customMetric, { error: 'must be a list of {attributeKey, metricSpec}' }).nullish(),
  },
  { error: 'must be a mapping' },
);

/** The parameters this plugin knows. */
export const parametersSchema = z.object({
  engineLabelKey: param.string(),
  defaultEngine: param.string(),
  engineConfigs: z.array(engineConfig, { error: 'must be a list of engine configs' }).nullish(),
});

export const registration: PluginRegistration = {
  type: CORE_METRICS_EXTRACTOR,
  parameters: parametersSchema,
  factory: (name, parameters) => {
    const p = parseParameters(parametersSchema, parameters);
    const engines = compileEngines((p.engineConfigs ?? []) as unknown as EngineConfig[]);
    const defaultEngine = p.defaultEngine || DEFAULT_ENGINE;
    if (!engines.has(defaultEngine)) {
      throw new ConfigError('parameters.defaultEngine', `engine "${defaultEngine}" is not in engineConfigs or the built-ins (${[...engines.keys()].join(', ')})`);
    }
    return new CoreMetricsExtractor(name, engines, p.engineLabelKey || ENGINE_LABEL_KEY, defaultEngine);
  },
};
