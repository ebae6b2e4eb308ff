/**
 * topology-extractor (llm-d): an endpoint's host, rack, zone and region, read from its pod labels
 * (`kubernetes.io/hostname`, `topology.kubernetes.io/{rack,zone,region}` by default; each label name is a
 * parameter). llm-d also falls back to the Pod's `spec.hostname`; this EPP reads labels only.
 */
import { z } from 'zod';
import type { Endpoint } from '../../framework/endpoint.js';
import type { Plugin, PluginRegistration } from '../../framework/plugin.js';
import { param, parseParameters } from '../shared/params.js';
import { DEFAULT_TOPOLOGY_LABELS, topologyOf, type Topology, type TopologyLabels, type TopologySource } from '../shared/topology.js';

export const TOPOLOGY_EXTRACTOR = 'topology-extractor';

export const parametersSchema = z.object({ hostname: param.string(), rack: param.string(), zone: param.string(), region: param.string() });

export class TopologyExtractor implements Plugin, TopologySource {
  readonly type = TOPOLOGY_EXTRACTOR;
  constructor(
    readonly name: string,
    readonly labels: TopologyLabels,
  ) {}

  topologyOf(e: Endpoint): Topology | undefined {
    return topologyOf(e, this.labels);
  }
}

export const registration: PluginRegistration = {
  type: TOPOLOGY_EXTRACTOR,
  parameters: parametersSchema,
  factory: (name, parameters) => {
    const p = parseParameters(parametersSchema, parameters);
    return new TopologyExtractor(name, {
      hostname: p.hostname || DEFAULT_TOPOLOGY_LABELS.hostname,
      rack: p.rack || DEFAULT_TOPOLOGY_LABELS.rack,
      zone: p.zone || DEFAULT_TOPOLOGY_LABELS.zone,
      region: p.region || DEFAULT_TOPOLOGY_LABELS.region,
    });
  },
};
