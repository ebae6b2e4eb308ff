/**
 * Where an endpoint runs (host, rack, zone, region, from pod labels) and how close two endpoints are: the
 * tightest level they share, where a missing value never matches (not even empty against empty) and a
 * shared host implies every looser level. Used by llm-d's topology-affinity filter and scorer to keep a
 * P/D request's prefill near its decode pod (KV-cache transfer bandwidth falls by orders of magnitude
 * from NVLink to a NIC to several switch hops).
 */
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginHandle } from '../../framework/plugin.js';
import { ConfigError } from '../../errors.js';

export interface Topology {
  readonly hostname: string;
  readonly rack: string;
  readonly zone: string;
  readonly region: string;
}

export interface TopologyLabels {
  readonly hostname: string;
  readonly rack: string;
  readonly zone: string;
  readonly region: string;
}

export const DEFAULT_TOPOLOGY_LABELS: TopologyLabels = {
  hostname: 'kubernetes.io/hostname',
  rack: 'topology.kubernetes.io/rack',
  zone: 'topology.kubernetes.io/zone',
  region: 'topology.kubernetes.io/region',
};

export type Level = 'host' | 'rack' | 'zone' | 'region' | 'none';
export const LEVELS: readonly Exclude<Level, 'none'>[] = ['host', 'rack', 'zone', 'region'];

/** The endpoint's topology from its labels; undefined when it has none of them. */
export function topologyOf(e: Endpoint, labels: TopologyLabels = DEFAULT_TOPOLOGY_LABELS): Topology | undefined {
  const l = e.metadata.labels;
  const t = { hostname: l[labels.hostname] ?? '', rack: l[labels.rack] ?? '', zone: l[labels.zone] ?? '', region: l[labels.region] ?? '' };
  return t.hostname || t.rack || t.zone || t.region ? t : undefined;
}

const same = (a: string, b: string) => a !== '' && a === b;

/** The tightest level two topologies share. */
export function commonLevel(a: Topology, b: Topology): Level {
  if (same(a.hostname, b.hostname)) return 'host';
  if (same(a.rack, b.rack)) return 'rack';
  if (same(a.zone, b.zone)) return 'zone';
  if (same(a.region, b.region)) return 'region';
  return 'none';
}

/** True when `level` is `floor` or tighter. */
export const atLeast = (level: Level, floor: Exclude<Level, 'none'>) => level !== 'none' && LEVELS.indexOf(level) <= LEVELS.indexOf(floor);

/** A TopologySource: the extractor plugin, or the default labels when the config has none. */
export interface TopologySource {
  topologyOf(e: Endpoint): Topology | undefined;
}

export const defaultTopologySource: TopologySource = { topologyOf: (e) => topologyOf(e) };

export function isTopologySource(p: unknown): p is TopologySource {
  return typeof (p as Partial<TopologySource> | undefined)?.topologyOf === 'function';
}

/** The configured topology-extractor by name (default type name), else the default labels (with a warning). */
export function topologySource(handle: PluginHandle, name: string | null | undefined): TopologySource {
  const p = handle.plugin(name || 'topology-extractor');
  if (p && isTopologySource(p)) return p;
  if (name) throw new ConfigError('parameters.topologyProducerName', `no topology-extractor named "${name}"`);
  handle.warn('no topology-extractor in the config: topology is read from the default pod labels (kubernetes.io/hostname, topology.kubernetes.io/{rack,zone,region})');
  return defaultTopologySource;
}
