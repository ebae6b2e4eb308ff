import type { PluginRegistration } from '../../framework/plugin.js';
import type { MetricsSource } from '../../framework/datalayer.js';
import { z } from 'zod';
import { param, parseParameters } from '../shared/params.js';

export const METRICS_DATA_SOURCE = 'metrics-data-source';

/** Where each pod's metrics page is: `<scheme>://<address>:<port><path>`. */
export class MetricsDataSource implements MetricsSource {
  readonly type = METRICS_DATA_SOURCE;
  constructor(
    readonly name: string,
    readonly scheme: 'http' | 'https',
    readonly path: string,
    readonly insecureSkipVerify: boolean,
    readonly nameFilter: boolean,
  ) {}
}

const PATH = 'must be a path starting with "/"';

/** Where a page is, as every page-reading data source takes it (`dcgm-data-source` too). */
export const pageLocation = {
  scheme: z.enum(['http', 'https'], { error: 'must be "http" or "https"' }).nullish(),
  path: z.string({ error: PATH }).startsWith('/', { error: PATH }).nullish(),
  insecureSkipVerify: param.bool(),
};

/** The parameters this plugin knows. */
export const parametersSchema = z.object({
  ...pageLocation,
  nameFilter: param.bool(),
});

export const registration: PluginRegistration = {
  type: METRICS_DATA_SOURCE,
  parameters: parametersSchema,
  factory: (name, parameters) => {
    const p = parseParameters(parametersSchema, parameters);
    return new MetricsDataSource(name, p.scheme ?? 'http', p.path ?? '/metrics', p.insecureSkipVerify ?? false, p.nameFilter ?? true);
  },
};
