/** low-queue-filter (GIE v0.5): keeps endpoints whose waiting queue is at most `threshold` (128). */
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Filter } from '../../framework/scheduling.js';
import { nonNegativeInt, paramsOf } from '../shared/params.js';
import { expectedQueue } from '../queue-scorer/index.js';
import { knownParameters } from '../shared/schema-params.js';

export const LOW_QUEUE_FILTER = 'low-queue-filter';
export const DEFAULT_LOW_QUEUE_THRESHOLD = 128;

export class LowQueueFilter implements Filter {
  readonly type = LOW_QUEUE_FILTER;
  constructor(
    readonly name: string,
    readonly threshold: number,
  ) {}

  filter(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    return endpoints.filter((e) => expectedQueue(e) <= this.threshold);
  }
}

export const registration: PluginRegistration = {
  type: LOW_QUEUE_FILTER,
  parameters: knownParameters('threshold'),
  factory: (name, parameters) => new LowQueueFilter(name, nonNegativeInt(paramsOf(parameters), 'threshold', DEFAULT_LOW_QUEUE_THRESHOLD)),
};
