/**
 * active-request-scorer (llm-d): prefers endpoints with fewer requests this EPP has in flight on them.
 * count ≤ idleThreshold → 1; otherwise (max − count) / max · maxBusyScore, max over the candidates.
 */
import type { CycleState } from '../../framework/cycle-state.js';
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { DataConsumer } from '../../framework/request-control.js';
import type { Scorer } from '../../framework/scheduling.js';
import { paramsOf } from '../shared/params.js';
import { IN_FLIGHT_LOAD_KEY, inFlightLoadOf } from '../inflight-load-producer/index.js';
import { knownParameters } from '../shared/schema-params.js';

export const ACTIVE_REQUEST_SCORER = 'active-request-scorer';

export class ActiveRequestScorer implements Scorer, DataConsumer {
  readonly type = ACTIVE_REQUEST_SCORER;
  readonly category = 'distribution' as const;
  readonly consumes = [IN_FLIGHT_LOAD_KEY] as const;
  constructor(
    readonly name: string,
    readonly idleThreshold: number,
    readonly maxBusyScore: number,
  ) {}

  score(cs: CycleState, _req: unknown, endpoints: readonly Endpoint[]): Float64Array {
    const load = inFlightLoadOf(cs);
    const n = endpoints.length;
    const counts = new Float64Array(n);
    let max = 0;
    for (let i = 0; i < n; i++) {
      const c = load(endpoints[i]!).requests;
      counts[i] = c;
      if (c > max) max = c;
    }
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) scores[i] = counts[i]! <= this.idleThreshold ? 1 : ((max - counts[i]!) / max) * this.maxBusyScore;
    return scores;
  }
}

export const registration: PluginRegistration = {
  type: ACTIVE_REQUEST_SCORER,
  parameters: knownParameters('requestTimeout', 'idleThreshold', 'maxBusyScore', 'inFlightLoadProducerName'),
  factory: (name, parameters, handle) => {
    const p = paramsOf(parameters);
    if (p['requestTimeout'] !== undefined) handle.warn('requestTimeout is deprecated and ignored: in-flight requests are released when they end');
    const idle = p['idleThreshold'];
    // As llm-d: a negative or non-numeric idleThreshold means 0; an out-of-range maxBusyScore means 1.0, with a warning.
    const idleThreshold = typeof idle === 'number' && Number.isInteger(idle) && idle >= 0 ? idle : 0;
    if (idle !== undefined && idleThreshold !== idle) handle.warn(`idleThreshold ${JSON.stringify(idle)} should be a non-negative integer; using 0`);
    const busy = p['maxBusyScore'];
    let maxBusyScore = 1;
    if (busy !== undefined && busy !== null) {
      if (typeof busy === 'number' && busy >= 0 && busy <= 1) maxBusyScore = busy;
      else handle.warn(`maxBusyScore ${JSON.stringify(busy)} is outside [0, 1]; using 1.0`);
    }
    return new ActiveRequestScorer(name, idleThreshold, maxBusyScore);
  },
};
