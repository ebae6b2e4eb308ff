/**
 * topology-affinity-scorer (llm-d): in a P/D request's prefill (or encode) profile, scores each candidate
 * by the tightest topology level it shares with the decode pick, on llm-d's fixed curve shaped by KV
 * transfer bandwidth: host 1.0 (NVLink), rack 0.2, zone 0.05, region 0.02, none 0. Every candidate scores
 * 0 without a decode pick of known topology, and a candidate of unknown topology scores 0.
 */
import { z } from 'zod';
import type { Endpoint } from '../../framework/endpoint.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { Scorer } from '../../framework/scheduling.js';
import { param, parseParameters } from '../shared/params.js';
import { PEER_ENDPOINT_KEY } from '../shared/disagg.js';
import { commonLevel, topologySource, type Level, type TopologySource } from '../shared/topology.js';

export const TOPOLOGY_AFFINITY_SCORER = 'topology-affinity-scorer';

export const LEVEL_SCORES: Readonly<Record<Level, number>> = { host: 1, rack: 0.2, zone: 0.05, region: 0.02, none: 0 };

export const parametersSchema = z.object({ topologyProducerName: param.string() });

export class TopologyAffinityScorer implements Scorer {
  readonly type = TOPOLOGY_AFFINITY_SCORER;
  readonly category = 'affinity' as const;
  constructor(
    readonly name: string,
    readonly source: TopologySource,
  ) {}

  score(cycleState: CycleState, _request: InferenceRequest, endpoints: readonly Endpoint[]): Float64Array {
    const scores = new Float64Array(endpoints.length);
    const peer = cycleState.read<Endpoint>(PEER_ENDPOINT_KEY);
    const peerTopology = peer && this.source.topologyOf(peer);
    if (!peerTopology) return scores;
    endpoints.forEach((e, i) => {
      const t = this.source.topologyOf(e);
      scores[i] = t ? LEVEL_SCORES[commonLevel(t, peerTopology)] : 0;
    });
    return scores;
  }
}

export const registration: PluginRegistration = {
  type: TOPOLOGY_AFFINITY_SCORER,
  parameters: parametersSchema,
  factory: (name, parameters, handle) => new TopologyAffinityScorer(name, topologySource(handle, parseParameters(parametersSchema, parameters).topologyProducerName)),
};
