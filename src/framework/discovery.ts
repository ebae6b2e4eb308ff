/**
 * Endpoint discovery: a plugin that tells a sink which model-server endpoints exist. The sink is the
 * EPP's endpoint store; `ready` is called once the first complete view has been delivered.
 */
import type { Plugin } from './plugin.js';
import type { EndpointMetadata } from './endpoint.js';

export interface DiscoverySink {
  /** Adds or updates an endpoint, identified by `namespace/name`. */
  upsert(endpoint: EndpointMetadata): void;
  delete(key: string): void;
  ready(): void;
}

export interface EndpointDiscovery extends Plugin {
  /** Starts delivering endpoints; rejects when the first view cannot be read (a startup error). */
  start(sink: DiscoverySink): Promise<void>;
  stop(): Promise<void>;
}

export function isEndpointDiscovery(p: Plugin): p is EndpointDiscovery {
  const d = p as Partial<EndpointDiscovery>;
  return typeof d.start === 'function' && typeof d.stop === 'function';
}

export const endpointKey = (e: Pick<EndpointMetadata, 'namespace' | 'name'>) => `${e.namespace}/${e.name}`;
