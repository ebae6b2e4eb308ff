/**
 * least-queue-filter (GIE v0.5): keeps endpoints whose waiting queue is within (max − min) / n of the
 * smallest (integer division, as the Go code), so roughly the least-queued 1/n of the range.
 */
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Filter } from '../../framework/scheduling.js';
import { expectedQueue } from '../queue-scorer/index.js';

export const LEAST_QUEUE_FILTER = 'least-queue-filter';

export class LeastQueueFilter implements Filter {
  readonly type = LEAST_QUEUE_FILTER;
  constructor(readonly name: string) {}

  filter(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    if (endpoints.length === 0) return endpoints;
    const q = endpoints.map(expectedQueue);
    const min = Math.min(...q);
    const max = Math.max(...q);
    const limit = min + Math.trunc((max - min) / endpoints.length);
    return endpoints.filter((_, i) => q[i]! <= limit);
  }
}

export const registration: PluginRegistration = { type: LEAST_QUEUE_FILTER, takesNoParameters: true, factory: (name) => new LeastQueueFilter(name) };
