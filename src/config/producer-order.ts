import type { DataProducer } from '../framework/request-control.js';
import { ConfigError } from '../errors.js';

/**
 * Orders producers so that one consuming (or using) a key runs after every producer of that key; otherwise config
 * order is kept. A dependency cycle is a startup error naming the plugins in it.
 */
export function orderProducers(producers: readonly DataProducer[]): DataProducer[] {
  const producersOf = new Map<string, DataProducer[]>();
  for (const p of producers) for (const key of p.produces) producersOf.set(key, [...(producersOf.get(key) ?? []), p]);
  const ordered: DataProducer[] = [];
  const state = new Map<DataProducer, 'visiting' | 'done'>();
  const visit = (p: DataProducer, trail: DataProducer[]) => {
    if (state.get(p) === 'done') return;
    if (state.get(p) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(p)), p].map((x) => `"${x.name}"`).join(' → ');
      throw new ConfigError('plugins', `data producers depend on each other in a cycle: ${cycle}`);
    }
    state.set(p, 'visiting');
    for (const key of [...p.consumes, ...(p.uses ?? [])]) for (const dep of producersOf.get(key) ?? []) if (dep !== p) visit(dep, [...trail, p]);
    state.set(p, 'done');
    ordered.push(p);
  };
  for (const p of producers) visit(p, []);
  return ordered;
}
