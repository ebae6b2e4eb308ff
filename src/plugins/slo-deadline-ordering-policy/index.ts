/**
 * slo-deadline-ordering-policy: earliest TTFT deadline first, the deadline being the time the request
 * arrived + its `x-llm-d-slo-ttft-ms` header (alias `x-slo-ttft-ms`). A missing or invalid header sorts
 * last; ties go by arrival.
 */
import type { PluginRegistration } from '../../framework/plugin.js';
import type { OrderingPolicy, QueuedRequest } from '../../framework/flow-control.js';

export const SLO_DEADLINE_ORDERING_POLICY = 'slo-deadline-ordering-policy';
export const HEADER_SLO_TTFT = 'x-llm-d-slo-ttft-ms';
export const HEADER_SLO_TTFT_OLD = 'x-slo-ttft-ms';

/** The TTFT objective in ms, or undefined when the header is absent or not a non-negative integer. */
export function sloTtftMs(headers: Readonly<Record<string, string>>): number | undefined {
  const raw = headers[HEADER_SLO_TTFT] ?? headers[HEADER_SLO_TTFT_OLD];
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (!/^\+?\d+$/.test(text)) return undefined;
  const ms = Number(text);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

export const sloDeadline = (r: QueuedRequest): number => {
  const ms = sloTtftMs(r.headers);
  return ms === undefined ? Infinity : r.receivedAt + ms;
};

export class SloDeadlineOrderingPolicy implements OrderingPolicy {
  readonly type = SLO_DEADLINE_ORDERING_POLICY;
  constructor(readonly name: string) {}

  less(a: QueuedRequest, b: QueuedRequest): boolean {
    const da = sloDeadline(a);
    const db = sloDeadline(b);
    return da !== db ? da < db : a.receivedAt < b.receivedAt;
  }
}

export const registration: PluginRegistration = {
  type: SLO_DEADLINE_ORDERING_POLICY,
  takesNoParameters: true,
  factory: (name) => new SloDeadlineOrderingPolicy(name),
};
