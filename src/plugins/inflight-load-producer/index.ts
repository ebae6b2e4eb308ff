/**
 * inflight-load-producer (llm-d): publishes each candidate's in-flight load — requests and estimated prompt
 * tokens this EPP dispatched to it and that have not finished — for active-request-scorer and the
 * concurrency filters. The counts are the EPP's own reservations (director/load-tracker): taken at pick
 * time, before the answer goes to the proxy, on the primary pick and on a P/D prefill pick; released on
 * every outcome (success, error, disconnect, a refused route), a prefill pod's as soon as the response starts.
 */
import type { CycleState } from '../../framework/cycle-state.js';
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { DataProducer } from '../../framework/request-control.js';
import { ConfigError } from '../../errors.js';
import { paramsOf } from '../shared/params.js';
import { knownParameters } from '../shared/schema-params.js';

export const INFLIGHT_LOAD_PRODUCER = 'inflight-load-producer';
/** Data key (llm-d's name). */
export const IN_FLIGHT_LOAD_KEY = 'InFlightLoad';

export interface InFlightLoad {
  readonly requests: number;
  readonly tokens: number;
}

/** What the producer writes under IN_FLIGHT_LOAD_KEY: a live view of an endpoint's in-flight load. */
export type InFlightLoadView = (endpoint: Endpoint) => InFlightLoad;

export const liveInFlightLoad: InFlightLoadView = (e) => ({ requests: e.load.inFlightRequests, tokens: e.load.inFlightTokens });

/** The view a consumer uses: the producer's, or the live records when no producer ran (tests, direct use). */
export function inFlightLoadOf(cs: CycleState): InFlightLoadView {
  return cs.read<InFlightLoadView>(IN_FLIGHT_LOAD_KEY) ?? liveInFlightLoad;
}

export class InFlightLoadProducer implements DataProducer {
  readonly type = INFLIGHT_LOAD_PRODUCER;
  readonly produces = [IN_FLIGHT_LOAD_KEY] as const;
  readonly consumes = [] as const;
  constructor(readonly name: string) {}

  produce(_request: unknown, _candidates: readonly Endpoint[], cs: CycleState): void {
    cs.write(IN_FLIGHT_LOAD_KEY, liveInFlightLoad);
  }
}

/**
 * llm-d's parameters (`addEstimatedOutputTokens`, `outputRatio`, `maxEstimatedOutputTokens`,
 * `prefixMatchInfoProducerName`, `syncCrossReplicaState`) load; the estimate options have no effect here
 * (tokens are the prompt's).
 */
export const registration: PluginRegistration = {
  type: INFLIGHT_LOAD_PRODUCER,
  parameters: knownParameters('addEstimatedOutputTokens', 'outputRatio', 'maxEstimatedOutputTokens', 'prefixMatchInfoProducerName', 'syncCrossReplicaState'),
  factory: (name, parameters, handle) => {
    const p = paramsOf(parameters);
    for (const k of ['outputRatio', 'maxEstimatedOutputTokens']) {
      const v = p[k];
      if (v !== undefined && v !== null && (typeof v !== 'number' || v < 0)) throw new ConfigError(`parameters.${k}`, `must be a non-negative number, got ${JSON.stringify(v)}`);
    }
    if (p['addEstimatedOutputTokens'] === true) handle.warn('addEstimatedOutputTokens is not supported: in-flight tokens count the prompt only');
    return new InFlightLoadProducer(name);
  },
};
