/**
 * topology-affinity-filter (llm-d): in a P/D request's prefill (or encode) profile, keeps the candidates
 * that share at least `minAffinity` (host, rack, zone or region) with the decode pick, so the KV cache
 * crosses as little network as possible. It fails open: with no decode pick, a decode pick of unknown
 * topology, or no candidate close enough, every candidate stays (affinity is a preference and must never
 * make a request unroutable). A candidate of unknown topology is left out when others match.
 */
import { z } from 'zod';
import type { Endpoint } from '../../framework/endpoint.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { Filter } from '../../framework/scheduling.js';
import { ConfigError } from '../../errors.js';
import { param, parseParameters } from '../shared/params.js';
import { PEER_ENDPOINT_KEY } from '../shared/disagg.js';
import { atLeast, commonLevel, LEVELS, topologySource, type Level, type TopologySource } from '../shared/topology.js';

export const TOPOLOGY_AFFINITY_FILTER = 'topology-affinity-filter';

export const parametersSchema = z.object({ minAffinity: param.string(), topologyProducerName: param.string() });

export class TopologyAffinityFilter implements Filter {
  readonly type = TOPOLOGY_AFFINITY_FILTER;
  constructor(
    readonly name: string,
    readonly minAffinity: Exclude<Level, 'none'>,
    readonly source: TopologySource,
  ) {}

  filter(cycleState: CycleState, _request: InferenceRequest, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const peer = cycleState.read<Endpoint>(PEER_ENDPOINT_KEY);
    const peerTopology = peer && this.source.topologyOf(peer);
    if (!peerTopology) return endpoints;
    const kept = endpoints.filter((e) => {
      const t = this.source.topologyOf(e);
      return t !== undefined && atLeast(commonLevel(t, peerTopology), this.minAffinity);
    });
    return kept.length > 0 ? kept : endpoints;
  }
}

export const registration: PluginRegistration = {
  type: TOPOLOGY_AFFINITY_FILTER,
  parameters: parametersSchema,
  factory: (name, parameters, handle) => {
    const p = parseParameters(parametersSchema, parameters);
    const min = (p.minAffinity || 'host') as Exclude<Level, 'none'>;
    if (!LEVELS.includes(min)) throw new ConfigError('parameters.minAffinity', `must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(p.minAffinity)}`);
    return new TopologyAffinityFilter(name, min, topologySource(handle, p.topologyProducerName));
  },
};
