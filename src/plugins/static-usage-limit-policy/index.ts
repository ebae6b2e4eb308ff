/** static-usage-limit-policy: every band's saturation ceiling is the same `threshold` (default 1.0). */
import type { PluginRegistration } from '../../framework/plugin.js';
import type { UsageLimitPolicy } from '../../framework/flow-control.js';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { paramsOf } from '../shared/params.js';

export const STATIC_USAGE_LIMIT_POLICY = 'static-usage-limit-policy';

export class StaticUsageLimitPolicy implements UsageLimitPolicy {
  readonly type = STATIC_USAGE_LIMIT_POLICY;
  constructor(
    readonly name: string,
    readonly threshold: number,
  ) {}

  computeLimit(_saturation: number, _priorities: readonly number[], ceilings: number[]): void {
    ceilings.fill(this.threshold);
  }
}

function threshold(parameters: unknown): number {
  const v = paramsOf(parameters)['threshold'];
  if (v === undefined || v === null) return 1;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError('parameters.threshold', `must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/** Declared for the loader's unknown-key warnings; values are checked by the factory. */
const parameters = z.object({ threshold: z.unknown().optional() });

export const registration: PluginRegistration = {
  parameters,
  type: STATIC_USAGE_LIMIT_POLICY,
  factory: (name, parameters) => new StaticUsageLimitPolicy(name, threshold(parameters)),
};
