/**
 * Every way out of the queue, with llm-d's outcome label (metrics), HTTP status, message text and
 * `x-llm-d-request-dropped-reason` header. Messages are llm-d's wrapped-error strings, so an ImmediateResponse
 * body reads e.g. `inference error: ResourceExhausted - request timed out in queue: request evicted from
 * queue: request TTL expired`.
 */
import { EppError, ErrorCodes } from '../errors.js';

export const Outcome = {
  Dispatched: 'Dispatched',
  RejectedCapacity: 'RejectedCapacity',
  RejectedNoEndpoints: 'RejectedNoEndpoints',
  RejectedOther: 'RejectedOther',
  EvictedTTL: 'EvictedTTL',
  EvictedNoEndpoints: 'EvictedNoEndpoints',
  EvictedContextCancelled: 'EvictedContextCancelled',
  EvictedOther: 'EvictedOther',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export const DROPPED_REASON_HEADER = 'x-llm-d-request-dropped-reason';
export const DroppedReason = {
  saturated: 'rejected-saturated',
  noEndpoints: 'rejected-no-endpoints',
  ttlExpired: 'rejected-ttl-expired',
  contextCancelled: 'rejected-context-cancelled',
  shuttingDown: 'rejected-shutting-down',
  evicted: 'evicted',
} as const;

const REJECTED = 'request rejected pre-queue';
const EVICTED = 'request evicted from queue';
const TTL = 'request TTL expired';
const NO_ENDPOINTS = 'no endpoints available';
const CANCELLED = 'request context cancelled: context canceled';
const NOT_RUNNING = 'flow controller is not running';

const dropped = (reason: string) => ({ headers: { [DROPPED_REASON_HEADER]: reason } });

/** Over the queue's caps: 429, or 503 when the pool was empty at the last dispatch cycle. */
export function rejectedCapacity(poolEmpty: boolean): { outcome: Outcome; error: EppError } {
  return poolEmpty
    ? { outcome: Outcome.RejectedNoEndpoints, error: new EppError(ErrorCodes.QUEUE_UNAVAILABLE, `${NO_ENDPOINTS}: ${REJECTED}: ${NO_ENDPOINTS}`, dropped(DroppedReason.noEndpoints)) }
    : { outcome: Outcome.RejectedCapacity, error: new EppError(ErrorCodes.QUEUE_FULL, `${REJECTED}: queue at capacity`, dropped(DroppedReason.saturated)) };
}

/**
 * The queue-wait budget ran out. `poolEmpty` is the pool now: a TTL expiry is backpressure (429) while
 * the pool has endpoints and unavailability (503) when it has none. `preQueue`: the caller's deadline had
 * passed before the request could be queued.
 */
export function expired(outcome: typeof Outcome.EvictedTTL | typeof Outcome.EvictedNoEndpoints, poolEmpty: boolean, preQueue = false): { outcome: Outcome; error: EppError } {
  const cause = preQueue ? `${REJECTED}: ${TTL}` : outcome === Outcome.EvictedNoEndpoints ? `${EVICTED}: ${TTL}: ${NO_ENDPOINTS}` : `${EVICTED}: ${TTL}`;
  const label = preQueue ? Outcome.RejectedOther : outcome;
  if (outcome === Outcome.EvictedNoEndpoints || poolEmpty) {
    return { outcome: label, error: new EppError(ErrorCodes.QUEUE_UNAVAILABLE, `request timed out in queue and no endpoints are available: ${cause}`, dropped(DroppedReason.noEndpoints)) };
  }
  return { outcome: label, error: new EppError(ErrorCodes.QUEUE_TTL_EXPIRED, `request timed out in queue: ${cause}`, dropped(DroppedReason.ttlExpired)) };
}

/** The client went away while (or before) its request was queued. */
export function cancelled(preQueue: boolean): { outcome: Outcome; error: EppError } {
  return {
    outcome: preQueue ? Outcome.RejectedOther : Outcome.EvictedContextCancelled,
    error: new EppError(ErrorCodes.QUEUE_UNAVAILABLE, `client disconnected: ${preQueue ? REJECTED : EVICTED}: ${CANCELLED}`, dropped(DroppedReason.contextCancelled)),
  };
}

/** The EPP is shutting down. */
export function shuttingDown(preQueue: boolean): { outcome: Outcome; error: EppError } {
  return {
    outcome: preQueue ? Outcome.RejectedOther : Outcome.EvictedOther,
    error: new EppError(ErrorCodes.QUEUE_UNAVAILABLE, `flow controller shutting down: ${preQueue ? REJECTED : EVICTED}: ${NOT_RUNNING}`, dropped(DroppedReason.shuttingDown)),
  };
}
