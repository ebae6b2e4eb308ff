/** fcfs-ordering-policy: within a flow, the request that entered the queue first goes first. */
import type { PluginRegistration } from '../../framework/plugin.js';
import type { OrderingPolicy, QueuedRequest } from '../../framework/flow-control.js';

export const FCFS_ORDERING_POLICY = 'fcfs-ordering-policy';

export class FcfsOrderingPolicy implements OrderingPolicy {
  readonly type = FCFS_ORDERING_POLICY;
  constructor(readonly name: string) {}

  less(a: QueuedRequest, b: QueuedRequest): boolean {
    return a.enqueuedAt < b.enqueuedAt;
  }
}

export const registration: PluginRegistration = {
  type: FCFS_ORDERING_POLICY,
  takesNoParameters: true,
  factory: (name) => new FcfsOrderingPolicy(name),
};
