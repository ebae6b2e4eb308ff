/** A simulated pool as the EPP's endpoint discovery: no file, no config edit (the quick start and the lab use it). */
import type { DiscoverySink, EndpointDiscovery } from '../framework/discovery.js';
import type { SimPool } from './server.js';

export function simDiscovery(pool: SimPool, labels: (i: number) => Record<string, string> = () => ({})): EndpointDiscovery {
  return {
    type: 'simulated-pool',
    name: 'simulated-pool',
    async start(sink: DiscoverySink) {
      pool.servers.forEach((s, i) => sink.upsert({ name: s.name, namespace: 'default', address: s.address, port: s.port, labels: labels(i) }));
      sink.ready();
    },
    async stop() {},
  };
}
