/**
 * /status.json: what the EPP sees and does, in one document the status page renders. Built on request
 * from the live objects (nothing is kept for it but the decision log); prompts and bodies never appear.
 */
import type { Endpoint } from '../framework/endpoint.js';
import type { DecisionLog, Decision } from './decision-log.js';

export const ROLE_LABEL = 'llm-d.ai/role';

/** The narrow views of the running EPP the status needs. */
export interface StatusSources {
  readonly version: string;
  readonly startedAt: number;
  readonly poolName: string;
  readonly endpoints: () => readonly Endpoint[];
  /** Why an endpoint's metrics are stale or its scrape fails; undefined when fresh. */
  readonly staleReason: (endpoint: Endpoint) => string | undefined;
  readonly decisions: DecisionLog;
  /** Prefix indexes (approximate producers): distinct blocks and (endpoint, block) entries. */
  readonly prefixIndexes: () => readonly { name: string; blocks: number; entries: number }[];
  readonly workers: () => { threads: number; tasks: number; jobs: number; handOffUs: number | undefined; fallbacks: Readonly<Record<string, number>>; placements: readonly { profile: string; plugin: string; placement: string }[] };
  /** Flow control's queues, when the feature is on. */
  readonly flowControl?: () => { queued: number; queuedBytes: number; saturation: number; bands: readonly { priority: number; queued: number; bytes: number; flows: number }[] };
  readonly now?: () => number;
}

export interface EndpointStatus {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  readonly role: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly waiting: number | null;
  readonly running: number | null;
  readonly kvCacheUsage: number | null;
  readonly inFlight: number;
  /** Age of the last good scrape, ms; null before the first. */
  readonly metricsAgeMs: number | null;
  readonly stale: string | null;
  readonly activeModels: readonly string[];
}

export interface StatusDocument {
  readonly version: string;
  readonly now: number;
  readonly uptimeSeconds: number;
  readonly pool: { readonly name: string; readonly endpoints: readonly EndpointStatus[] };
  readonly decisions: readonly Decision[];
  readonly prefix: { readonly indexes: readonly { name: string; blocks: number; entries: number }[]; readonly recentHitRate: number | null; readonly recentRequests: number };
  readonly workers: ReturnType<StatusSources['workers']>;
  readonly flowControl: ReturnType<NonNullable<StatusSources['flowControl']>> | null;
}

const finite = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x);

export function statusDocument(s: StatusSources): StatusDocument {
  const now = (s.now ?? Date.now)();
  const decisions = s.decisions.recent();
  let matched = 0;
  let total = 0;
  let counted = 0;
  for (const d of decisions) {
    if (!d.prefix) continue;
    matched += d.prefix.matchedBlocks;
    total += d.prefix.totalBlocks;
    counted++;
  }
  return {
    version: s.version,
    now,
    uptimeSeconds: Math.round((now - s.startedAt) / 1000),
    pool: {
      name: s.poolName,
      endpoints: s.endpoints().map((e) => {
        const m = e.metrics;
        return {
          name: e.metadata.name,
          namespace: e.metadata.namespace,
          address: e.hostPort,
          role: e.metadata.labels[ROLE_LABEL] ?? '',
          labels: e.metadata.labels,
          waiting: finite(m.waitingQueueSize),
          running: finite(m.runningRequestsSize),
          kvCacheUsage: finite(m.kvCacheUsage),
          inFlight: e.load.inFlightRequests,
          metricsAgeMs: m.updateTime > 0 ? Math.max(0, now - m.updateTime) : null,
          stale: s.staleReason(e) ?? null,
          activeModels: [...(m.activeModels ?? [])],
        };
      }),
    },
    decisions,
    prefix: { indexes: s.prefixIndexes(), recentHitRate: total > 0 ? matched / total : null, recentRequests: counted },
    workers: s.workers(),
    flowControl: s.flowControl ? s.flowControl() : null,
  };
}
