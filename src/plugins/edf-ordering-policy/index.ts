/**
 * edf-ordering-policy: earliest deadline first, the deadline being enqueue time + the request's TTL.
 * A request without a TTL sorts last; equal deadlines go first-come-first-served.
 */
import type { PluginRegistration } from '../../framework/plugin.js';
import type { OrderingPolicy, QueuedRequest } from '../../framework/flow-control.js';

export const EDF_ORDERING_POLICY = 'edf-ordering-policy';

export const edfDeadline = (r: QueuedRequest): number => (r.ttlMs > 0 ? r.enqueuedAt + r.ttlMs : Infinity);

export class EdfOrderingPolicy implements OrderingPolicy {
  readonly type = EDF_ORDERING_POLICY;
  constructor(readonly name: string) {}

  less(a: QueuedRequest, b: QueuedRequest): boolean {
    const da = edfDeadline(a);
    const db = edfDeadline(b);
    return da !== db ? da < db : a.enqueuedAt < b.enqueuedAt;
  }
}

export const registration: PluginRegistration = {
  type: EDF_ORDERING_POLICY,
  takesNoParameters: true,
  factory: (name) => new EdfOrderingPolicy(name),
};
