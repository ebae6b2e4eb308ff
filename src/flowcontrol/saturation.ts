/**
 * Pool saturation as llm-d's flow control computes it: endpoints are split by their `llm-d.ai/role` label
 * into a prefill and a decode group (`prefill-decode`, `both`, `encode-prefill-decode` serve both; no label
 * or an empty one is decode; `encode` and unknown roles are left out), the detector runs on each non-empty
 * group, and the effective saturation is the larger. With neither group it is the detector over the whole
 * pool; an empty pool is 1.
 */
import type { Endpoint } from '../framework/endpoint.js';
import type { SaturationDetector } from '../framework/saturation.js';

export const ROLE_LABEL = 'llm-d.ai/role';

export interface PoolSaturation {
  /** -1 when the group is empty. */
  prefill: number;
  decode: number;
  effective: number;
}

const PREFILL = new Set(['prefill', 'encode-prefill']);
const DECODE = new Set(['decode', '']);
const BOTH = new Set(['prefill-decode', 'both', 'encode-prefill-decode']);

/** Computes into `out` (reused across cycles). Endpoints without any role label take the fast path. */
export function poolSaturation(pool: readonly Endpoint[], detector: SaturationDetector, out: PoolSaturation): PoolSaturation {
  let labelled = false;
  for (const e of pool) {
    if (e.metadata.labels[ROLE_LABEL] !== undefined) {
      labelled = true;
      break;
    }
  }
  if (!labelled) {
    // Every endpoint is decode: one group, the whole pool.
    out.prefill = -1;
    out.decode = pool.length > 0 ? detector.saturation(pool) : -1;
    out.effective = pool.length > 0 ? out.decode : detector.saturation(pool);
    return out;
  }
  const prefill: Endpoint[] = [];
  const decode: Endpoint[] = [];
  for (const e of pool) {
    const role = e.metadata.labels[ROLE_LABEL] ?? '';
    if (PREFILL.has(role)) prefill.push(e);
    else if (DECODE.has(role)) decode.push(e);
    else if (BOTH.has(role)) {
      prefill.push(e);
      decode.push(e);
    }
  }
  out.prefill = prefill.length > 0 ? detector.saturation(prefill) : -1;
  out.decode = decode.length > 0 ? detector.saturation(decode) : -1;
  out.effective = Math.max(out.prefill, out.decode);
  if (out.effective < 0) out.effective = detector.saturation(pool);
  return out;
}
