/**
 * global-strict-fairness-policy: no fairness at all between flows. The band dispatches the request its
 * ordering policy ranks first across every flow (with FCFS: the oldest request of the band).
 */
import type { PluginRegistration } from '../../framework/plugin.js';
import type { BandView, FairnessPolicy, FlowQueueView } from '../../framework/flow-control.js';

export const GLOBAL_STRICT_FAIRNESS_POLICY = 'global-strict-fairness-policy';

export class GlobalStrictFairnessPolicy implements FairnessPolicy {
  readonly type = GLOBAL_STRICT_FAIRNESS_POLICY;
  constructor(readonly name: string) {}

  newState(): undefined {
    return undefined;
  }

  pick(band: BandView): FlowQueueView | undefined {
    let best: FlowQueueView | undefined;
    let bestHead;
    for (const flow of band.flows()) {
      const head = flow.head();
      if (!best || band.ordering.less(head, bestHead!) || (!band.ordering.less(bestHead!, head) && head.enqueuedAt < bestHead!.enqueuedAt)) {
        best = flow;
        bestHead = head;
      }
    }
    return best;
  }
}

export const registration: PluginRegistration = {
  type: GLOBAL_STRICT_FAIRNESS_POLICY,
  takesNoParameters: true,
  factory: (name) => new GlobalStrictFairnessPolicy(name),
};
