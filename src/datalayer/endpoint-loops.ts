/**
 * Keeps one record per endpoint in step with the pool, as both collectors do for their read loops: records
 * of endpoints that left are stopped, endpoints that joined get a new one, started at once.
 */
import type { Endpoint } from '../framework/endpoint.js';

export function syncLoops<L>(loops: Map<string, L>, endpoints: readonly Endpoint[], make: (e: Endpoint) => L, stop: (key: string) => void, start: (loop: L) => void): void {
  const live = new Set(endpoints.map((e) => e.key));
  for (const key of [...loops.keys()]) if (!live.has(key)) stop(key);
  for (const e of endpoints) {
    if (loops.has(e.key)) continue;
    const loop = make(e);
    loops.set(e.key, loop);
    start(loop);
  }
}
