import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Scorer } from '../../framework/scheduling.js';
import { minMaxInverse } from '../shared/min-max.js';

export const QUEUE_SCORER = 'queue-scorer';

/** Waiting queue as scraped, plus what this EPP dispatched since that scrape (the reservation). */
const expectedQueue = (e: Endpoint) => e.metrics.waitingQueueSize + e.load.unscrapedDispatches;

export class QueueScorer implements Scorer {
  readonly type = QUEUE_SCORER;
  readonly category = 'distribution' as const;
  constructor(readonly name: string) {}

  score(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): Float64Array {
    return minMaxInverse(endpoints, expectedQueue);
  }
}

export const registration: PluginRegistration = {
  type: QUEUE_SCORER,
  takesNoParameters: true,
  factory: (name) => new QueueScorer(name),
};
