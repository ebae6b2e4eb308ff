/**
 * Saturation detection contract: a detector reports how loaded a candidate set is, so admission control
 * (flow control, shedding of sheddable requests) can tell when the pool has no room left.
 */
import type { Plugin } from './plugin.js';
import type { Endpoint } from './endpoint.js';

export interface SaturationDetector extends Plugin {
  /**
   * The saturation of `candidates`: 0 is idle, 1 or more means the pool is saturated. An empty candidate
   * set counts as saturated (1).
   */
  saturation(candidates: readonly Endpoint[]): number;
}

export function isSaturationDetector(p: Plugin): p is SaturationDetector {
  return typeof (p as Partial<SaturationDetector>).saturation === 'function';
}
