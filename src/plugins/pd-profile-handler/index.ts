/**
 * pd-profile-handler (llm-d, deprecated in favour of disagg-profile-handler): decode first, then prefill
 * when the decider approves. Old parameters: `decodeProfile`, `prefillProfile`, `deciderPluginName`
 * (default `prefix-based-pd-decider`, which must be defined), `primaryPort`.
 */
import type { CycleState } from '../../framework/cycle-state.js';
import type { Endpoint } from '../../framework/endpoint.js';
import type { HeaderEdits } from '../../framework/headers.js';
import type { PluginRegistration, ReferencingPlugin } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { PreRequest } from '../../framework/request-control.js';
import type { ProfileHandler, ProfileResults, ProfileRunResult, SchedulerProfile, SchedulingResult } from '../../framework/scheduling.js';
import { ConfigError, EppError, ErrorCodes } from '../../errors.js';
import { paramsOf } from '../shared/params.js';
import { DEFAULT_DECODE_PROFILE, DEFAULT_PREFILL_PROFILE, setDisaggHeaders } from '../shared/disagg.js';
import { DeciderRefs, disaggDecisionCounters, NO_DECODE_WORKERS, recordDecision, type DecisionCounters } from '../disagg-profile-handler/index.js';
import { PREFIX_BASED_PD_DECIDER } from '../prefix-based-pd-decider/index.js';
import { knownParameters } from '../shared/schema-params.js';

export const PD_PROFILE_HANDLER = 'pd-profile-handler';
/** With `primaryPort`, the decode pod's own rank goes here and the destination uses the primary port. */
export const DATA_PARALLEL_HEADER = 'x-data-parallel-host-port';

export interface PdConfig {
  readonly decodeProfile: string;
  readonly prefillProfile: string;
  /** 0 = keep the picked port. */
  readonly primaryPort: number;
}

function onPort(e: Endpoint, port: number): Endpoint {
  const address = e.metadata.address;
  return { ...e, hostPort: `${address.includes(':') ? `[${address}]` : address}:${port}`, metadata: { ...e.metadata, port } };
}

export class PdProfileHandler implements ProfileHandler, PreRequest, ReferencingPlugin {
  readonly type = PD_PROFILE_HANDLER;
  constructor(
    readonly name: string,
    readonly config: PdConfig,
    private readonly deciders: DeciderRefs,
    private readonly counters: DecisionCounters,
  ) {}

  resolveReferences(): void {
    this.deciders.resolve();
  }

  checkProfiles(names: ReadonlySet<string>): string | undefined {
    return names.has(this.config.decodeProfile) ? undefined : `${this.type} "${this.name}" needs a scheduling profile named "${this.config.decodeProfile}" (its decode profile)`;
  }

  pick(request: InferenceRequest, profiles: ReadonlyMap<string, SchedulerProfile>, results: ProfileResults, cs: CycleState): readonly SchedulerProfile[] {
    const { decodeProfile, prefillProfile } = this.config;
    if (!results.has(decodeProfile)) {
      const p = profiles.get(decodeProfile);
      return p ? [p] : [];
    }
    const decodePick = results.get(decodeProfile)?.targetEndpoints[0]?.endpoint;
    if (!decodePick || results.has(prefillProfile)) return [];
    const prefill = profiles.get(prefillProfile);
    if (prefill && this.deciders.prefill?.disaggregate(request, decodePick, cs)) {
      recordDecision(this.counters, this, request.targetModel, 'prefill-decode');
      return [prefill];
    }
    recordDecision(this.counters, this, request.targetModel, 'decode-only');
    return [];
  }

  processResults(_request: InferenceRequest, results: ProfileResults, cs: CycleState): SchedulingResult {
    const { decodeProfile, prefillProfile, primaryPort } = this.config;
    const decode = results.get(decodeProfile);
    if (!decode || decode.targetEndpoints.length === 0) throw new EppError(ErrorCodes.NO_CAPACITY, NO_DECODE_WORKERS);
    const primary: ProfileRunResult = primaryPort ? { targetEndpoints: decode.targetEndpoints.map((t) => ({ ...t, endpoint: onPort(t.endpoint, primaryPort) })) } : decode;
    const kept = new Map<string, ProfileRunResult | undefined>([[decodeProfile, primary]]);
    const prefill = results.get(prefillProfile);
    if (prefill && prefill.targetEndpoints.length > 0) kept.set(prefillProfile, prefill);
    if (primaryPort) cs.write(`${this.name}/rank`, decode.targetEndpoints[0]!.endpoint); // the pick before the port change, for the header
    return { profileResults: kept, primaryProfileName: decodeProfile };
  }

  preRequest(request: InferenceRequest, result: SchedulingResult, cs: CycleState, headers: HeaderEdits): void {
    setDisaggHeaders(request, result, { prefill: this.config.prefillProfile, encode: '' }, headers);
    const rank = cs.read<Endpoint>(`${this.name}/rank`);
    if (rank) headers.set(DATA_PARALLEL_HEADER, rank.hostPort);
  }
}

export const registration: PluginRegistration = {
  type: PD_PROFILE_HANDLER,
  parameters: knownParameters('decodeProfile', 'prefillProfile', 'prefixPluginType', 'prefixPluginName', 'primaryPort', 'deciderPluginName', 'prefixMatchInfoProducerName'),
  factory: (name, parameters, handle) => {
    handle.warn(`${PD_PROFILE_HANDLER} is deprecated; use disagg-profile-handler`);
    const p = paramsOf(parameters);
    const str = (k: string, d: string) => {
      const v = p[k];
      if (v === undefined || v === null || v === '') return d;
      if (typeof v !== 'string') throw new ConfigError(`parameters.${k}`, `must be a string, got ${JSON.stringify(v)}`);
      return v;
    };
    const port = p['primaryPort'] ?? 0;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError('parameters.primaryPort', `must be a port between 1 and 65535 (or 0 for none), got ${JSON.stringify(port)}`);
    }
    if (port) handle.warn('parameter "primaryPort" is deprecated (not needed with Istio >= 1.28.1)');
    const deciderName = str('deciderPluginName', PREFIX_BASED_PD_DECIDER);
    const refs = new DeciderRefs(handle, { prefill: deciderName }, { prefill: 'parameters.deciderPluginName', encode: '' });
    return new PdProfileHandler(
      name,
      { decodeProfile: str('decodeProfile', DEFAULT_DECODE_PROFILE), prefillProfile: str('prefillProfile', DEFAULT_PREFILL_PROFILE), primaryPort: port },
      refs,
      disaggDecisionCounters(handle, 'pd'),
    );
  },
};
