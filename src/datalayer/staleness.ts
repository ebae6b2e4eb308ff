import type { Endpoint } from '../framework/endpoint.js';
import type { ScrapeOutcome } from './collector.js';

/**
 * The one staleness rule, for every consumer (routing, pool gauges, the stale-server metric), all on the
 * data layer's injected clock. Metrics are stale when never scraped or older than the threshold. A failed
 * scrape of any kind (connection, timeout, HTTP status, oversize page, protocol error, unknown engine)
 * leaves the figures and their time unchanged, so every kind of failure ages them alike; a page that was
 * read, even incompletely ('extract'), refreshes them.
 */
export function isStale(endpoint: Endpoint, now: number, thresholdMs: number): boolean {
  const updated = endpoint.metrics.updateTime;
  return updated === 0 || now - updated > thresholdMs;
}

/** The last scrape got no page (every failure kind but an incomplete page). */
export const scrapeFailed = (outcome: ScrapeOutcome | undefined): boolean => outcome !== undefined && outcome !== 'ok' && outcome !== 'extract';

/**
 * Out of the candidates: the last scrape failed (whatever the kind) and the metrics are stale. Its last
 * good figures would keep it looking idle. (The director still keeps such endpoints when none would remain.)
 */
export function unroutable(endpoint: Endpoint, outcome: ScrapeOutcome | undefined, now: number, thresholdMs: number): boolean {
  return scrapeFailed(outcome) && isStale(endpoint, now, thresholdMs);
}


/**
 * Why an endpoint's metrics cannot be trusted now, or undefined when they are fresh. `scrapeProblem` is the
 * collector's reason for the last failed scrape, so the answer says not just "stale" but why.
 */
export function staleReason(endpoint: Endpoint, now: number, thresholdMs: number, scrapeProblem?: string): string | undefined {
  if (!isStale(endpoint, now, thresholdMs)) return undefined;
  const updated = endpoint.metrics.updateTime;
  const why = scrapeProblem ? `; last scrape: ${scrapeProblem}` : '';
  if (updated === 0) return `never scraped${why}`;
  const age = now - updated;
  return `metrics are ${Math.round(age)} ms old (threshold ${thresholdMs} ms)${why}`;
}
