import type { Endpoint } from '../framework/endpoint.js';

/**
 * Why an endpoint's metrics cannot be trusted now, or undefined when they are fresh. `scrapeProblem` is the
 * collector's reason for the last failed scrape, so the answer says not just "stale" but why.
 */
export function staleReason(endpoint: Endpoint, now: number, thresholdMs: number, scrapeProblem?: string): string | undefined {
  const updated = endpoint.metrics.updateTime;
  const why = scrapeProblem ? `; last scrape: ${scrapeProblem}` : '';
  if (updated === 0) return `never scraped${why}`;
  const age = now - updated;
  if (age <= thresholdMs) return undefined;
  return `metrics are ${Math.round(age)} ms old (threshold ${thresholdMs} ms)${why}`;
}
