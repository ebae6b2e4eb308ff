import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Scorer } from '../../framework/scheduling.js';
import { minMaxInverse } from '../shared/min-max.js';

export const RUNNING_REQUESTS_SIZE_SCORER = 'running-requests-size-scorer';

/** Running requests as scraped, plus what this EPP dispatched since that scrape (the reservation). */
const expectedRunning = (e: Endpoint) => e.metrics.runningRequestsSize + e.load.unscrapedDispatches;

export class RunningRequestsSizeScorer implements Scorer {
  readonly type = RUNNING_REQUESTS_SIZE_SCORER;
  readonly category = 'distribution' as const;
  constructor(readonly name: string) {}

  score(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): Float64Array {
    return minMaxInverse(endpoints, expectedRunning);
  }
}

export const registration: PluginRegistration = {
  type: RUNNING_REQUESTS_SIZE_SCORER,
  takesNoParameters: true,
  factory: (name) => new RunningRequestsSizeScorer(name),
};
