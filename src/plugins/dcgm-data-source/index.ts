/** dcgm-data-source (llm-d): each endpoint's NVIDIA DCGM Exporter page, read for the extractors wired to it. */
import { z } from 'zod';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { AttributeSource } from '../../framework/datalayer.js';
import { parseDuration } from '../../config/duration.js';
import { param, parseParameters } from '../shared/params.js';
import { pageLocation } from '../metrics-data-source/index.js';

export const DCGM_DATA_SOURCE = 'dcgm-data-source';

export const parametersSchema = z.object({
  ...pageLocation,
  port: z.number({ error: 'must be a port (1–65535)' }).int({ error: 'must be a port (1–65535)' }).min(1, { error: 'must be a port (1–65535)' }).max(65535, { error: 'must be a port (1–65535)' }).nullish(),
  useNodeAddress: param.bool(),
  interval: param.string(),
});

export class DcgmDataSource implements AttributeSource {
  readonly type = DCGM_DATA_SOURCE;
  constructor(
    readonly name: string,
    readonly attributePage: AttributeSource['attributePage'],
  ) {}
}

export const registration: PluginRegistration = {
  type: DCGM_DATA_SOURCE,
  parameters: parametersSchema,
  factory: (name, parameters) => {
    const p = parseParameters(parametersSchema, parameters);
    const intervalMs = p.interval ? parseDuration(p.interval, 'parameters.interval') : undefined;
    return new DcgmDataSource(name, {
      scheme: p.scheme ?? 'http',
      path: p.path ?? '/metrics',
      port: p.port ?? 9400,
      insecureSkipVerify: p.insecureSkipVerify ?? true,
      useNodeAddress: p.useNodeAddress ?? false,
      intervalMs: intervalMs === 0 ? undefined : intervalMs,
    });
  },
};
