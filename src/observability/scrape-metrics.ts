/**
 * Scrape metrics. The Go EPP (llm-d-router) counts data-source poll and extract errors by source and
 * extractor type, under both its legacy and its llm-d prefix:
 *   llm_d_inference_scheduler_datalayer_poll_errors_total{source_type}, llm_d_epp_datalayer_poll_errors_total{source_type}
 *   llm_d_inference_scheduler_datalayer_extract_errors_total{source_type,extractor_type}, llm_d_epp_… the same
 * It has no per-pod scrape series; these are ours, with the Go EPP's endpoint labels (pod_name, namespace,
 * port), and leave with the pod: llm_d_epp_datalayer_poll_duration_seconds (histogram) and
 * llm_d_epp_datalayer_endpoint_poll_errors_total{…, reason}. 2,000 scrapes a second at 100 pods: each
 * pod's series are bound once, so recording a scrape is a few additions.
 */
import { Counter, type Registry as PromRegistry } from 'prom-client';
import type { EndpointMetadata } from '../framework/endpoint.js';
import { FastHistogram } from './fast-histogram.js';

/** What the collector tells (src/datalayer/collector.ts ScrapeObserver). */
type Outcome = 'ok' | 'extract' | 'timeout' | 'connection' | 'http-status' | 'too-large' | 'protocol' | 'engine';

export const METRICS_SOURCE_TYPE = 'metrics-data-source';
export const METRICS_EXTRACTOR_TYPE = 'core-metrics-extractor';
const PREFIXES = ['llm_d_inference_scheduler', 'llm_d_epp'] as const;
const SCRAPE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface PodSeries {
  readonly labels: { pod_name: string; namespace: string; port: string };
  readonly observe: (seconds: number) => void;
  readonly reasons: Set<string>;
  /** Set when the pod's series were removed: a metadata object that maps here must look again. */
  removed: boolean;
}

const podKey = (e: EndpointMetadata) => `${e.namespace}/${e.name}:${e.port}`;

export class ScrapeMetrics {
  readonly #pollErrors: Counter<'source_type'>[];
  readonly #extractErrors: Counter<'source_type' | 'extractor_type'>[];
  readonly #duration: FastHistogram<'pod_name' | 'namespace' | 'port'>;
  readonly #podErrors: Counter<'pod_name' | 'namespace' | 'port' | 'reason'>;
  /** By `namespace/name:port`: a pod whose labels changed keeps its series. */
  readonly #pods = new Map<string, PodSeries>();
  /** The same, by metadata object: a scrape finds its pod without building the key string (~1 µs a page). */
  readonly #byMetadata = new WeakMap<EndpointMetadata, PodSeries>();
  readonly #sourceType: string;
  readonly #extractorType: string;

  constructor(registry: PromRegistry, sourceType = METRICS_SOURCE_TYPE, extractorType = METRICS_EXTRACTOR_TYPE) {
    const registers = [registry];
    this.#sourceType = sourceType;
    this.#extractorType = extractorType;
    this.#pollErrors = PREFIXES.map((p) => new Counter({ name: `${p}_datalayer_poll_errors_total`, help: 'Data-source poll errors per source type.', labelNames: ['source_type'], registers }));
    this.#extractErrors = PREFIXES.map(
      (p) => new Counter({ name: `${p}_datalayer_extract_errors_total`, help: 'Extract errors per source/extractor type.', labelNames: ['source_type', 'extractor_type'], registers }),
    );
    this.#duration = new FastHistogram({ name: 'llm_d_epp_datalayer_poll_duration_seconds', help: 'Metrics scrape duration per endpoint, failed scrapes included.', labelNames: ['pod_name', 'namespace', 'port'], buckets: SCRAPE_BUCKETS, registers });
    this.#podErrors = new Counter({ name: 'llm_d_epp_datalayer_endpoint_poll_errors_total', help: 'Failed metrics scrapes per endpoint, by reason (timeout, connection, http-status, too-large, protocol, engine, extract).', labelNames: ['pod_name', 'namespace', 'port', 'reason'], registers });
    for (const c of this.#pollErrors) c.inc({ source_type: sourceType }, 0);
    for (const c of this.#extractErrors) c.inc({ source_type: sourceType, extractor_type: extractorType }, 0);
  }

  scraped(endpoint: EndpointMetadata, seconds: number, outcome: Outcome): void {
    const pod = this.#series(endpoint);
    if (outcome !== 'engine') pod.observe(seconds);
    if (outcome === 'ok') return;
    if (outcome === 'extract') for (const c of this.#extractErrors) c.inc({ source_type: this.#sourceType, extractor_type: this.#extractorType });
    else for (const c of this.#pollErrors) c.inc({ source_type: this.#sourceType });
    pod.reasons.add(outcome);
    this.#podErrors.inc({ ...pod.labels, reason: outcome });
  }

  stopped(endpoint: EndpointMetadata): void {
    const key = podKey(endpoint);
    const pod = this.#pods.get(key);
    if (!pod) return;
    this.#pods.delete(key);
    pod.removed = true;
    this.#duration.remove(pod.labels);
    for (const reason of pod.reasons) this.#podErrors.remove({ ...pod.labels, reason });
  }

  #series(endpoint: EndpointMetadata): PodSeries {
    const known = this.#byMetadata.get(endpoint);
    if (known && !known.removed) return known;
    const key = podKey(endpoint);
    let pod = this.#pods.get(key);
    if (!pod) {
      const labels = { pod_name: endpoint.name, namespace: endpoint.namespace, port: String(endpoint.port) };
      pod = { labels, observe: this.#duration.bind(labels), reasons: new Set(), removed: false };
      this.#pods.set(key, pod);
    }
    this.#byMetadata.set(endpoint, pod);
    return pod;
  }
}
