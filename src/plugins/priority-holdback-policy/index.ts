/**
 * priority-holdback-policy: lower bands stop dispatching earlier. Ceilings spread linearly from
 * `maxCeiling` (the highest band) down to `minCeiling` (the lowest), by band rank or by priority value.
 */
import type { PluginRegistration } from '../../framework/plugin.js';
import type { UsageLimitPolicy } from '../../framework/flow-control.js';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { paramsOf, type Params } from '../shared/params.js';

export const PRIORITY_HOLDBACK_POLICY = 'priority-holdback-policy';

export type HoldbackDomain = 'rank' | 'value';

export interface PriorityHoldbackConfig {
  readonly minCeiling: number;
  readonly maxCeiling: number;
  readonly domain: HoldbackDomain;
  readonly shape: 'linear';
}

export class PriorityHoldbackPolicy implements UsageLimitPolicy {
  readonly type = PRIORITY_HOLDBACK_POLICY;
  constructor(
    readonly name: string,
    readonly config: PriorityHoldbackConfig,
  ) {}

  computeLimit(_saturation: number, priorities: readonly number[], ceilings: number[]): void {
    const n = priorities.length;
    if (n === 0) return;
    const { minCeiling: lo, maxCeiling: hi } = this.config;
    if (n === 1) {
      ceilings[0] = hi;
      return;
    }
    if (this.config.domain === 'rank') {
      for (let i = 0; i < n; i++) ceilings[i] = hi - (i * (hi - lo)) / (n - 1);
      return;
    }
    const pMax = priorities[0]!;
    const pMin = priorities[n - 1]!;
    for (let i = 0; i < n; i++) ceilings[i] = pMax === pMin ? hi : lo + ((priorities[i]! - pMin) / (pMax - pMin)) * (hi - lo);
  }
}

function num(p: Params, key: string): number | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`parameters.${key}`, `must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function parsePriorityHoldbackConfig(parameters: unknown): PriorityHoldbackConfig {
  const p = paramsOf(parameters);
  const minCeiling = num(p, 'minCeiling');
  if (minCeiling === undefined) throw new ConfigError('parameters.minCeiling', 'is required (a number in [0, 1))');
  const maxCeiling = num(p, 'maxCeiling') ?? 1;
  const domain = p['domain'] ?? 'rank';
  const shape = p['shape'] ?? 'linear';
  if (shape !== 'linear') throw new ConfigError('parameters.shape', `unsupported shape ${JSON.stringify(shape)}, must be "linear"`);
  if (domain !== 'rank' && domain !== 'value') throw new ConfigError('parameters.domain', `unsupported domain ${JSON.stringify(domain)}, must be "rank" or "value"`);
  if (minCeiling < 0 || minCeiling >= 1) throw new ConfigError('parameters.minCeiling', `must be in [0.0, 1.0), got ${minCeiling}`);
  if (maxCeiling <= 0 || maxCeiling > 1) throw new ConfigError('parameters.maxCeiling', `must be in (0.0, 1.0], got ${maxCeiling}`);
  if (minCeiling >= maxCeiling) throw new ConfigError('parameters.minCeiling', `(${minCeiling}) must be strictly less than maxCeiling (${maxCeiling})`);
  return { minCeiling, maxCeiling, domain, shape };
}

/** Declared for the loader's unknown-key warnings; values are checked by the factory. */
const parameters = z.object({ minCeiling: z.unknown().optional(), maxCeiling: z.unknown().optional(), domain: z.unknown().optional(), shape: z.unknown().optional() });

export const registration: PluginRegistration = {
  parameters,
  type: PRIORITY_HOLDBACK_POLICY,
  factory: (name, parameters) => new PriorityHoldbackPolicy(name, parsePriorityHoldbackConfig(parameters)),
};
