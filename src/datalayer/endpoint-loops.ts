/**
 * Keeps one record per endpoint in step with the pool, as both collectors do for their read loops: records
 * of endpoints that left are stopped, endpoints that joined get a new one, started at once.
 */
import type { Endpoint } from '../framework/endpoint.js';

/** What stopping a read loop touches: its flag (a late answer is ignored) and its connection. */
export interface StoppableLoop {
  stopped: boolean;
  readonly client: { close(): void } | undefined;
}

/** Stops the loop of `key` (marked, connection closed, forgotten); returns it, or undefined when there was none. */
export function stopLoop<L extends StoppableLoop>(loops: Map<string, L>, key: string): L | undefined {
  const loop = loops.get(key);
  if (!loop) return undefined;
  loop.stopped = true;
  loop.client?.close();
  loops.delete(key);
  return loop;
}

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
