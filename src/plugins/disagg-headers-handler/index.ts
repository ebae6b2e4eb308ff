/**
 * disagg-headers-handler / prefill-header-handler (llm-d, deprecated): PreRequest plugins that set
 * `x-prefiller-host-port` and `x-encoder-hosts-ports` from the prefill and encode profiles' picks, for
 * configs written before disagg-profile-handler set them itself.
 */
import type { CycleState } from '../../framework/cycle-state.js';
import type { HeaderEdits } from '../../framework/headers.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { PreRequest } from '../../framework/request-control.js';
import type { SchedulingResult } from '../../framework/scheduling.js';
import { ConfigError } from '../../errors.js';
import { paramsOf } from '../shared/params.js';
import { DEFAULT_ENCODE_PROFILE, DEFAULT_PREFILL_PROFILE, setDisaggHeaders } from '../shared/disagg.js';
import { knownParameters } from '../shared/schema-params.js';

export const DISAGG_HEADERS_HANDLER = 'disagg-headers-handler';
export const PREFILL_HEADER_HANDLER = 'prefill-header-handler';

export class DisaggHeadersHandler implements PreRequest {
  constructor(
    readonly type: string,
    readonly name: string,
    readonly profiles: { readonly prefill: string; readonly encode: string },
  ) {}

  preRequest(request: InferenceRequest, result: SchedulingResult, _cs: CycleState, headers: HeaderEdits): void {
    setDisaggHeaders(request, result, this.profiles, headers);
  }
}

function registrationOf(type: string): PluginRegistration {
  return {
    type,
    parameters: knownParameters('prefillProfile', 'encodeProfile'),
    factory: (name, parameters, handle) => {
      handle.warn(`${type} is deprecated; disagg-profile-handler sets these headers itself`);
      const p = paramsOf(parameters);
      const str = (k: string, d: string) => {
        const v = p[k];
        if (v === undefined || v === null || v === '') return d;
        if (typeof v !== 'string') throw new ConfigError(`parameters.${k}`, `must be a string, got ${JSON.stringify(v)}`);
        return v;
      };
      return new DisaggHeadersHandler(type, name, { prefill: str('prefillProfile', DEFAULT_PREFILL_PROFILE), encode: str('encodeProfile', DEFAULT_ENCODE_PROFILE) });
    },
  };
}

export const registration = registrationOf(DISAGG_HEADERS_HANDLER);
export const legacyRegistration = registrationOf(PREFILL_HEADER_HANDLER);
