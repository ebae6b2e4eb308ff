/** always-disagg-multimodal-decider (llm-d): the encode stage runs for every request that carries images, audio or video. */
import type { PluginRegistration } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import { hasMultimodalContent, type DisaggDecider } from '../shared/disagg.js';

export const ALWAYS_DISAGG_MULTIMODAL_DECIDER = 'always-disagg-multimodal-decider';

export class AlwaysDisaggMultimodalDecider implements DisaggDecider {
  readonly type = ALWAYS_DISAGG_MULTIMODAL_DECIDER;
  constructor(readonly name: string) {}
  disaggregate(request: InferenceRequest): boolean {
    return hasMultimodalContent(request);
  }
}

export const registration: PluginRegistration = {
  type: ALWAYS_DISAGG_MULTIMODAL_DECIDER,
  takesNoParameters: true,
  factory: (name) => new AlwaysDisaggMultimodalDecider(name),
};
