/**
 * disagg-profile-handler (llm-d): P/D and E/P/D disaggregation. Each `pick` runs the next stage: decode
 * first (the primary result), then encode and prefill, each only when its decider approves; a declined
 * stage is not asked again. As a PreRequest plugin it names the prefill pod in `x-prefiller-host-port` and
 * the encode pods in `x-encoder-hosts-ports` for the decode pod's sidecar.
 */
import type { CycleState } from '../../framework/cycle-state.js';
import type { HeaderEdits } from '../../framework/headers.js';
import type { PluginCounter, PluginHandle, PluginRegistration, ReferencingPlugin } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { PreRequest } from '../../framework/request-control.js';
import type { ProfileHandler, ProfileResults, ProfileRunResult, SchedulerProfile, SchedulingResult } from '../../framework/scheduling.js';
import { ConfigError, EppError, ErrorCodes } from '../../errors.js';
import { paramsOf, type Params } from '../shared/params.js';
import {
  DEFAULT_DECODE_PROFILE,
  DEFAULT_ENCODE_PROFILE,
  DEFAULT_PREFILL_PROFILE,
  decisionType,
  isDisaggDecider,
  PEER_ENDPOINT_KEY,
  setDisaggHeaders,
  type DisaggDecider,
} from '../shared/disagg.js';
import { knownParameters } from '../shared/schema-params.js';

export const DISAGG_PROFILE_HANDLER = 'disagg-profile-handler';
export const NO_DECODE_WORKERS = 'failed to find available decode workers';

export type StageOrder = 'decode-first' | 'prefill-first';

export interface DisaggConfig {
  readonly stageOrder: StageOrder;
  readonly profiles: { readonly decode: string; readonly prefill: string; readonly encode: string };
  /** Decider plugin names; a stage without one never runs (in decode-first order). */
  readonly deciders: { readonly prefill?: string | undefined; readonly encode?: string | undefined };
}

/** Deciders by name, resolved once every plugin of the config exists (a config may define them after the handler). */
export class DeciderRefs {
  prefill: DisaggDecider | undefined;
  encode: DisaggDecider | undefined;
  constructor(
    private readonly handle: PluginHandle,
    private readonly names: { readonly prefill?: string | undefined; readonly encode?: string | undefined },
    private readonly paths: { readonly prefill: string; readonly encode: string },
  ) {}

  resolve(): void {
    this.prefill = deciderOf(this.handle, this.names.prefill, this.paths.prefill);
    this.encode = deciderOf(this.handle, this.names.encode, this.paths.encode);
  }
}

/** llm-d's decision counters: the current name with the plugin's labels, and the deprecated scheduler one. */
export interface DecisionCounters {
  readonly current: PluginCounter;
  readonly deprecated: PluginCounter;
}

const NOOP_COUNTER: PluginCounter = { inc: () => {} };

export function disaggDecisionCounters(handle: PluginHandle, kind: 'disagg' | 'pd' = 'disagg'): DecisionCounters {
  const m = handle.services.metrics;
  if (!m) return { current: NOOP_COUNTER, deprecated: NOOP_COUNTER };
  const what = kind === 'disagg' ? 'disaggregation routing decisions' : 'P/D disaggregation decisions';
  return {
    current: m.counter(`llm_d_epp_${kind}_decision_total`, `Total number of ${what} made`, ['plugin_name', 'plugin_type', 'model_name', 'decision_type']),
    deprecated: m.counter(`llm_d_inference_scheduler_${kind}_decision_total`, `[Deprecated: Use llm_d_epp_${kind}_decision_total] Total number of ${what} made`, ['model_name', 'decision_type']),
  };
}

export function recordDecision(counters: DecisionCounters, plugin: { name: string; type: string }, model: string, decision: string): void {
  const m = model || 'unknown';
  counters.current.inc([plugin.name, plugin.type, m, decision]);
  counters.deprecated.inc([m, decision]);
}

export class DisaggProfileHandler implements ProfileHandler, PreRequest, ReferencingPlugin {
  readonly type: string = DISAGG_PROFILE_HANDLER;
  /** Cycle-state key of the stages a decider declined for this request. */
  readonly #declinedKey: string;

  constructor(
    readonly name: string,
    readonly config: DisaggConfig,
    private readonly deciders: DeciderRefs,
    private readonly counters: DecisionCounters,
  ) {
    this.#declinedKey = `${name}/declined`;
  }

  resolveReferences(): void {
    this.deciders.resolve();
  }

  /** The decode profile must exist; the handler's other profiles are optional stages. */
  checkProfiles(names: ReadonlySet<string>): string | undefined {
    const { decode } = this.config.profiles;
    return names.has(decode) ? undefined : `${this.type} "${this.name}" needs a scheduling profile named "${decode}" (its decode profile)`;
  }

  pick(request: InferenceRequest, profiles: ReadonlyMap<string, SchedulerProfile>, results: ProfileResults, cycleState: CycleState): readonly SchedulerProfile[] {
    return this.config.stageOrder === 'prefill-first' ? this.#prefillFirst(request, profiles, results, cycleState) : this.#decodeFirst(request, profiles, results, cycleState);
  }

  #decodeFirst(request: InferenceRequest, profiles: ReadonlyMap<string, SchedulerProfile>, results: ProfileResults, cs: CycleState): readonly SchedulerProfile[] {
    const { decode, encode, prefill } = this.config.profiles;
    if (!results.has(decode)) {
      const p = profiles.get(decode);
      return p ? [p] : [];
    }
    const decodePick = results.get(decode)?.targetEndpoints[0]?.endpoint;
    if (!decodePick) return []; // processResults fails the request
    for (const [stage, decider] of [[encode, this.deciders.encode], [prefill, this.deciders.prefill]] as const) {
      const profile = profiles.get(stage);
      if (!profile || results.has(stage) || this.#declined(cs).has(stage)) continue;
      if (decider?.disaggregate(request, decodePick, cs)) {
        cs.write(PEER_ENDPOINT_KEY, decodePick); // topology-affinity plugins place the stage near the decode pod
        return [profile];
      }
      this.#declined(cs).add(stage);
    }
    this.#record(request, results);
    return [];
  }

  #prefillFirst(request: InferenceRequest, profiles: ReadonlyMap<string, SchedulerProfile>, results: ProfileResults, cs: CycleState): readonly SchedulerProfile[] {
    const { decode, encode, prefill } = this.config.profiles;
    if (results.has(decode)) {
      if (results.get(decode)?.targetEndpoints.length) this.#record(request, results);
      return [];
    }
    const prefillProfile = profiles.get(prefill);
    if (prefillProfile && !results.has(prefill)) return [prefillProfile];
    const encodeProfile = profiles.get(encode);
    if (encodeProfile && !results.has(encode) && !this.#declined(cs).has(encode)) {
      if (this.deciders.encode?.disaggregate(request, undefined, cs)) return [encodeProfile];
      this.#declined(cs).add(encode);
    }
    const decodeProfile = profiles.get(decode);
    return decodeProfile ? [decodeProfile] : [];
  }

  #declined(cs: CycleState): Set<string> {
    let set = cs.read<Set<string>>(this.#declinedKey);
    if (!set) {
      set = new Set();
      cs.write(this.#declinedKey, set);
    }
    return set;
  }

  #record(request: InferenceRequest, results: ProfileResults): void {
    const used = (p: string) => (results.get(p)?.targetEndpoints.length ?? 0) > 0;
    recordDecision(this.counters, this, request.targetModel, decisionType(used(this.config.profiles.encode), used(this.config.profiles.prefill)));
  }

  processResults(_request: InferenceRequest, results: ProfileResults): SchedulingResult {
    const { decode, prefill, encode } = this.config.profiles;
    const decodeResult = results.get(decode);
    if (!decodeResult || decodeResult.targetEndpoints.length === 0) throw new EppError(ErrorCodes.NO_CAPACITY, NO_DECODE_WORKERS);
    const kept = new Map<string, ProfileRunResult | undefined>([[decode, decodeResult]]);
    for (const stage of [prefill, encode]) {
      const r = results.get(stage);
      if (r && r.targetEndpoints.length > 0) kept.set(stage, r);
    }
    return { profileResults: kept, primaryProfileName: decode };
  }

  preRequest(request: InferenceRequest, result: SchedulingResult, _cs: CycleState, headers: HeaderEdits): void {
    setDisaggHeaders(request, result, this.config.profiles, headers);
  }
}

const NESTED = ['stageOrder', 'profiles', 'deciders'] as const;
const LEGACY = ['decodeProfile', 'prefillProfile', 'encodeProfile', 'prefillDeciderPluginName', 'encodeDeciderPluginName', 'deciderPluginName'] as const;

function text(p: Params, key: string, path = key): string | undefined {
  const v = p[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ConfigError(`parameters.${path}`, `must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function section(p: Params, key: string): Params {
  const v = p[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`parameters.${key}`, `must be an object, got ${JSON.stringify(v)}`);
  return v as Params;
}

export function parseStageOrder(value: string | undefined): StageOrder {
  const v = (value ?? '').toLowerCase().replace(/[-_]/g, '');
  if (v === '' || v === 'decodefirst' || v === 'decode') return 'decode-first';
  if (v === 'prefillfirst' || v === 'prefill') return 'prefill-first';
  throw new ConfigError('parameters.stageOrder', `must be "decode-first" or "prefill-first", got ${JSON.stringify(value)}`);
}

/** A decider by plugin name: it must be defined earlier in the config and be a decider. */
export function deciderOf(handle: PluginHandle, name: string | undefined, path: string): DisaggDecider | undefined {
  if (!name) return undefined;
  const plugin = handle.plugin(name);
  if (!plugin) throw new ConfigError(path, `no plugin named "${name}"`);
  if (!isDisaggDecider(plugin)) throw new ConfigError(path, `plugin "${name}" (${plugin.type}) is not a disaggregation decider`);
  return plugin;
}

/** The nested parameters, or the deprecated flat ones (with a warning per key); mixing both is an error. */
export function parseDisaggConfig(parameters: unknown, handle: Pick<PluginHandle, 'warn'>): DisaggConfig {
  const p = paramsOf(parameters);
  const legacy = LEGACY.filter((k) => p[k] !== undefined);
  const nested = NESTED.filter((k) => k !== 'stageOrder' && p[k] !== undefined);
  if (legacy.length > 0 && nested.length > 0) {
    throw new ConfigError('parameters', `use either profiles/deciders or the deprecated flat parameters, not both (found ${[...nested, ...legacy].join(', ')})`);
  }
  let names: { decode?: string | undefined; prefill?: string | undefined; encode?: string | undefined };
  let deciders: { prefill?: string | undefined; encode?: string | undefined };
  if (legacy.length > 0) {
    const renamed: Record<string, string> = {
      decodeProfile: 'profiles.decode',
      prefillProfile: 'profiles.prefill',
      encodeProfile: 'profiles.encode',
      prefillDeciderPluginName: 'deciders.prefill',
      encodeDeciderPluginName: 'deciders.encode',
      deciderPluginName: 'deciders.prefill',
    };
    for (const k of legacy) handle.warn(`parameter "${k}" is deprecated; use "${renamed[k]}"`);
    names = { decode: text(p, 'decodeProfile'), prefill: text(p, 'prefillProfile'), encode: text(p, 'encodeProfile') };
    deciders = { prefill: text(p, 'prefillDeciderPluginName') ?? text(p, 'deciderPluginName'), encode: text(p, 'encodeDeciderPluginName') };
  } else {
    const profiles = section(p, 'profiles');
    const d = section(p, 'deciders');
    names = { decode: text(profiles, 'decode', 'profiles.decode'), prefill: text(profiles, 'prefill', 'profiles.prefill'), encode: text(profiles, 'encode', 'profiles.encode') };
    deciders = { prefill: text(d, 'prefill', 'deciders.prefill'), encode: text(d, 'encode', 'deciders.encode') };
  }
  const stageOrder = parseStageOrder(text(p, 'stageOrder'));
  if (stageOrder === 'prefill-first' && deciders.prefill) {
    throw new ConfigError('parameters.deciders.prefill', 'a prefill decider is not supported with stageOrder "prefill-first" (prefill always runs first)');
  }
  return {
    stageOrder,
    profiles: { decode: names.decode ?? DEFAULT_DECODE_PROFILE, prefill: names.prefill ?? DEFAULT_PREFILL_PROFILE, encode: names.encode ?? DEFAULT_ENCODE_PROFILE },
    deciders,
  };
}

export const registration: PluginRegistration = {
  type: DISAGG_PROFILE_HANDLER,
  parameters: knownParameters('stageOrder', 'profiles', 'deciders', ...LEGACY),
  factory: (name, parameters, handle) => {
    const config = parseDisaggConfig(parameters, handle);
    const refs = new DeciderRefs(handle, config.deciders, { prefill: 'parameters.deciders.prefill', encode: 'parameters.deciders.encode' });
    return new DisaggProfileHandler(name, config, refs, disaggDecisionCounters(handle));
  },
};
