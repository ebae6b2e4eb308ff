/**
 * Pool gauges with the Go EPP's names, plus which model servers are stale and why. They are computed when
 * /metrics is read (prom-client `collect`), from the store's current snapshot, so scraping 2,000 pages a
 * second costs them nothing.
 */
import { Gauge, type Registry as PromRegistry } from 'prom-client';
import type { Endpoint, EndpointSnapshot } from '../framework/endpoint.js';

export interface PoolView {
  snapshot(): EndpointSnapshot;
  /** Why an endpoint is stale now, or undefined when its metrics are fresh. */
  staleReason(endpoint: Endpoint): string | undefined;
  /** The last scrape's failure (e.g. `timeout: no complete page within 1000 ms`), or undefined. */
  scrapeProblem(key: string): string | undefined;
}

/** The stable part of a scrape problem, fit for a label: `timeout`, `connection`, `http-status`, `incomplete page`… */
export const problemKind = (problem: string | undefined) => (problem ? problem.split(':', 1)[0]! : '');

export function registerPoolMetrics(registry: PromRegistry, poolName: string, pool: PoolView): void {
  const fresh = () => pool.snapshot().endpoints.filter((e) => pool.staleReason(e) === undefined);
  const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
  new Gauge({
    name: 'inference_pool_ready_pods',
    help: 'The number of ready (fresh-metrics) pods in the inference server pool.',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      this.set({ name: poolName }, fresh().length);
    },
  });
  new Gauge({
    name: 'inference_pool_average_kv_cache_utilization',
    help: 'The average kv cache utilization for an inference server pool.',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      this.set({ name: poolName }, mean(fresh().map((e) => e.metrics.kvCacheUsage)));
    },
  });
  new Gauge({
    name: 'inference_pool_average_queue_size',
    help: 'The average number of requests pending in the model server queue.',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      this.set({ name: poolName }, mean(fresh().map((e) => e.metrics.waitingQueueSize)));
    },
  });
  new Gauge({
    name: 'inference_pool_per_pod_queue_size',
    help: 'The total number of requests pending in the model server queue for each underlying pod.',
    labelNames: ['name', 'model_server_pod'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of pool.snapshot().endpoints) this.set({ name: poolName, model_server_pod: e.metadata.name }, e.metrics.waitingQueueSize);
    },
  });
  new Gauge({
    name: 'inference_extension_model_server_stale',
    help: 'Model servers whose metrics are stale (1), by the kind of their last scrape failure (empty: none, the metrics are merely old).',
    labelNames: ['name', 'model_server_pod', 'scrape_error'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of pool.snapshot().endpoints) {
        if (pool.staleReason(e) === undefined) continue;
        this.set({ name: poolName, model_server_pod: e.metadata.name, scrape_error: problemKind(pool.scrapeProblem(e.key)) }, 1);
      }
    },
  });
}
