/** always-disagg-pd-decider (llm-d): every request gets its own prefill pod. */
import type { PluginRegistration } from '../../framework/plugin.js';
import type { DisaggDecider } from '../shared/disagg.js';

export const ALWAYS_DISAGG_PD_DECIDER = 'always-disagg-pd-decider';

export class AlwaysDisaggPdDecider implements DisaggDecider {
  readonly type = ALWAYS_DISAGG_PD_DECIDER;
  constructor(readonly name: string) {}
  disaggregate(): boolean {
    return true;
  }
}

export const registration: PluginRegistration = {
  type: ALWAYS_DISAGG_PD_DECIDER,
  takesNoParameters: true,
  factory: (name) => new AlwaysDisaggPdDecider(name),
};
