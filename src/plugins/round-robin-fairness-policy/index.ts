/**
 * round-robin-fairness-policy: flows of a band take turns, one request each, in the order of their
 * fairness IDs. The cursor remembers the last flow served and moves to the next non-empty one after it.
 */
import type { PluginRegistration } from '../../framework/plugin.js';
import type { BandView, FairnessPolicy, FlowQueueView } from '../../framework/flow-control.js';

export const ROUND_ROBIN_FAIRNESS_POLICY = 'round-robin-fairness-policy';

interface Cursor {
  last: string | undefined;
}

export class RoundRobinFairnessPolicy implements FairnessPolicy {
  readonly type = ROUND_ROBIN_FAIRNESS_POLICY;
  constructor(readonly name: string) {}

  newState(): Cursor {
    return { last: undefined };
  }

  pick(band: BandView): FlowQueueView | undefined {
    const cursor = band.state as Cursor;
    const next = band.flowAfter(cursor.last);
    cursor.last = next?.id;
    return next;
  }
}

export const registration: PluginRegistration = {
  type: ROUND_ROBIN_FAIRNESS_POLICY,
  takesNoParameters: true,
  factory: (name) => new RoundRobinFairnessPolicy(name),
};
