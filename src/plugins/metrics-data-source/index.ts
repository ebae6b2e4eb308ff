import type { PluginRegistration } from '../../framework/plugin.js';
import type { MetricsSource } from '../../framework/datalayer.js';
import { ConfigError } from '../../errors.js';
import { bool, paramsOf } from '../shared/params.js';

export const METRICS_DATA_SOURCE = 'metrics-data-source';

/** Where each pod's metrics page is: `<scheme>://<address>:<port><path>`. */
export class MetricsDataSource implements MetricsSource {
  readonly type = METRICS_DATA_SOURCE;
  constructor(
    readonly name: string,
    readonly scheme: 'http' | 'https',
    readonly path: string,
    readonly insecureSkipVerify: boolean,
  ) {}
}

export const registration: PluginRegistration = {
  type: METRICS_DATA_SOURCE,
  factory: (name, parameters) => {
    const p = paramsOf(parameters);
    const scheme = p['scheme'] ?? 'http';
    if (scheme !== 'http' && scheme !== 'https') throw new ConfigError('parameters.scheme', `must be "http" or "https", got ${JSON.stringify(scheme)}`);
    const path = p['path'] ?? '/metrics';
    if (typeof path !== 'string' || !path.startsWith('/')) throw new ConfigError('parameters.path', `must be a path starting with "/", got ${JSON.stringify(path)}`);
    return new MetricsDataSource(name, scheme, path, bool(p, 'insecureSkipVerify', false));
  },
};
