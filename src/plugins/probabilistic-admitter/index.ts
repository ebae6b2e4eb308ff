/**
 * probabilistic-admitter (llm-d): sheds sheddable requests (priority < 0) with a probability that rises
 * steeply with pool saturation, `p = min(saturation^power · k, 1)`, where saturation is the mean over the
 * candidates of `max(waiting / queueDepthThreshold, kvUse / kvCacheUtilThreshold)` (a pod never scraped
 * counts as saturated). Requests with priority ≥ 0 are always admitted, and so is everything when there
 * are no candidates. A gradual gate before scheduling, where the saturation detector's shedding is binary.
 */
import { z } from 'zod';
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { AdmissionResult, Admitter } from '../../framework/request-control.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { RandomSource } from '../../framework/plugin.js';
import { ErrorCodes } from '../../errors.js';
import { param, parseParameters } from '../shared/params.js';

export const PROBABILISTIC_ADMITTER = 'probabilistic-admitter';

const positive = () => z.number({ error: 'must be a number > 0' }).refine((v) => Number.isFinite(v) && v > 0, { error: 'must be > 0' }).nullish();

export const parametersSchema = z.object({
  queueDepthThreshold: param.positiveInt(),
  kvCacheUtilThreshold: positive(),
  power: positive(),
  k: positive(),
});

export interface ProbabilisticAdmitterConfig {
  readonly queueDepthThreshold: number;
  readonly kvCacheUtilThreshold: number;
  readonly power: number;
  readonly k: number;
}

export const DEFAULTS: ProbabilisticAdmitterConfig = { queueDepthThreshold: 5, kvCacheUtilThreshold: 0.8, power: 5, k: 300 };

export class ProbabilisticAdmitter implements Admitter {
  readonly type = PROBABILISTIC_ADMITTER;
  constructor(
    readonly name: string,
    readonly config: ProbabilisticAdmitterConfig,
    readonly random: RandomSource,
  ) {}

  saturation(candidates: readonly Endpoint[]): number {
    let total = 0;
    for (const e of candidates) {
      const m = e.metrics;
      total += m.updateTime === 0 ? 1 : Math.max(m.waitingQueueSize / this.config.queueDepthThreshold, m.kvCacheUsage / this.config.kvCacheUtilThreshold);
    }
    return total / candidates.length;
  }

  admit(request: InferenceRequest, candidates: readonly Endpoint[]): AdmissionResult {
    if (request.priority >= 0 || candidates.length === 0) return { admitted: true };
    const saturation = this.saturation(candidates);
    const probability = Math.min(Math.pow(saturation, this.config.power) * this.config.k, 1);
    if (this.random.next() < probability) {
      return { admitted: false, code: ErrorCodes.SHED, reason: `rejected, saturation=${saturation.toFixed(3)} prob=${probability.toFixed(2)}` };
    }
    return { admitted: true };
  }
}

export const registration: PluginRegistration = {
  type: PROBABILISTIC_ADMITTER,
  parameters: parametersSchema,
  factory: (name, parameters, handle) => {
    const p = parseParameters(parametersSchema, parameters);
    return new ProbabilisticAdmitter(
      name,
      { queueDepthThreshold: p.queueDepthThreshold ?? DEFAULTS.queueDepthThreshold, kvCacheUtilThreshold: p.kvCacheUtilThreshold ?? DEFAULTS.kvCacheUtilThreshold, power: p.power ?? DEFAULTS.power, k: p.k ?? DEFAULTS.k },
      handle.services.random,
    );
  },
};
