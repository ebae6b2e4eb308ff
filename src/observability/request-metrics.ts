/**
 * Request metrics with the Go EPP's names and labels (`inference_objective_*`), fed by the director.
 * Error codes are labelled with the Go EPP's names (BadRequest, ServiceUnavailable, …) so dashboards match.
 */
import type { Registry as PromRegistry } from 'prom-client';
import { FastCounter, FastGauge } from './fast-counter.js';
import { FastHistogram } from './fast-histogram.js';
import type { RequestOutcome } from '../framework/request-control.js';
import type { RequestObserver, RoutedRequest } from '../director/director.js';
import { goErrorName, type ErrorCode } from '../errors.js';

const DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];
const SIZE_BUCKETS = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4194304, 8388608, 16777216, 33554432, 67108864, 134217728, 268435456, 536870912, 1073741824];
const TOKEN_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536, 131072, 262144, 524288, 1048576];

/**
 * Model names come from clients, so label values are bounded: the first `limit` distinct names keep their
 * own series; any later new name is counted under `other`.
 */
export class BoundedLabels {
  readonly #seen = new Set<string>();
  constructor(readonly limit: number, readonly overflow = 'other') {}

  of(name: string): string {
    if (name === '' || this.#seen.has(name)) return name;
    if (this.#seen.size >= this.limit) return this.overflow;
    this.#seen.add(name);
    return name;
  }
}

export const MODEL_LABEL_LIMIT = 200;

export class PromRequestObserver implements RequestObserver {
  readonly #models: BoundedLabels;
  readonly #total: FastCounter<'model_name' | 'target_model_name' | 'priority'>;
  readonly #errors: FastCounter<'model_name' | 'target_model_name' | 'error_code'>;
  readonly #duration: FastHistogram<'model_name' | 'target_model_name'>;
  readonly #requestSizes: FastHistogram<'model_name' | 'target_model_name'>;
  readonly #responseSizes: FastHistogram<'model_name' | 'target_model_name'>;
  readonly #inputTokens: FastHistogram<'model_name' | 'target_model_name'>;
  readonly #outputTokens: FastHistogram<'model_name' | 'target_model_name'>;
  readonly #cachedTokens: FastHistogram<'model_name' | 'target_model_name'>;
  readonly #running: FastGauge<'model_name'>;

  constructor(registry: PromRegistry, modelLabelLimit = MODEL_LABEL_LIMIT) {
    this.#models = new BoundedLabels(modelLabelLimit);
    const labels = ['model_name', 'target_model_name'] as const;
    const registers = [registry];
    this.#total = new FastCounter({ name: 'inference_objective_request_total', help: 'Counter of inference objective requests broken out for each model and target model.', labelNames: [...labels, 'priority'], registers });
    this.#errors = new FastCounter({ name: 'inference_objective_request_error_total', help: 'Counter of inference objective requests errors broken out for each model and target model.', labelNames: [...labels, 'error_code'], registers });
    this.#duration = new FastHistogram({ name: 'inference_objective_request_duration_seconds', help: 'Inference objective response latency distribution in seconds for each model and target model.', labelNames: labels, buckets: DURATION_BUCKETS, registers });
    this.#requestSizes = new FastHistogram({ name: 'inference_objective_request_sizes', help: 'Inference objective requests size distribution in bytes for each model and target model.', labelNames: labels, buckets: SIZE_BUCKETS, registers });
    this.#responseSizes = new FastHistogram({ name: 'inference_objective_response_sizes', help: 'Inference objective responses size distribution in bytes for each model and target model.', labelNames: labels, buckets: SIZE_BUCKETS, registers });
    this.#inputTokens = new FastHistogram({ name: 'inference_objective_input_tokens', help: 'Inference objective input token count distribution for requests in each model.', labelNames: labels, buckets: TOKEN_BUCKETS, registers });
    this.#outputTokens = new FastHistogram({ name: 'inference_objective_output_tokens', help: 'Inference objective output token count distribution for requests in each model.', labelNames: labels, buckets: TOKEN_BUCKETS, registers });
    this.#cachedTokens = new FastHistogram({ name: 'inference_objective_prompt_cached_tokens', help: 'Inference objective prompt cached token count distribution for requests in each model.', labelNames: labels, buckets: TOKEN_BUCKETS, registers });
    this.#running = new FastGauge({ name: 'inference_objective_running_requests', help: 'Inference objective number of running requests in each model.', labelNames: ['model_name'], registers });
  }

  routed(r: RoutedRequest): void {
    const { priority } = r.request;
    const incomingModel = this.#models.of(r.request.incomingModel);
    const targetModel = this.#models.of(r.request.targetModel);
    this.#total.inc({ model_name: incomingModel, target_model_name: targetModel, priority: String(priority) });
    this.#requestSizes.observe({ model_name: incomingModel, target_model_name: targetModel }, r.requestBytes);
    this.#running.inc({ model_name: incomingModel });
  }

  failed(incomingModel: string, targetModel: string, code: ErrorCode): void {
    this.#errors.inc({ model_name: this.#models.of(incomingModel), target_model_name: this.#models.of(targetModel), error_code: goErrorName(code) });
  }

  completed(r: RoutedRequest, outcome: RequestOutcome, responseBytes: number): void {
    const labels = { model_name: this.#models.of(r.request.incomingModel), target_model_name: this.#models.of(r.request.targetModel) };
    this.#running.dec({ model_name: labels.model_name });
    if (outcome.kind === 'success') this.#duration.observe(labels, (performance.now() - r.startedAt) / 1000);
    this.#outcome(labels, outcome, responseBytes);
  }

  /** No request phase: no model, no start time; sizes, usage and errors still count (empty labels, as the Go EPP). */
  completedUnrouted(outcome: RequestOutcome, responseBytes: number): void {
    this.#outcome({ model_name: '', target_model_name: '' }, outcome, responseBytes);
  }

  #outcome(labels: { model_name: string; target_model_name: string }, outcome: RequestOutcome, responseBytes: number): void {
    if (outcome.kind === 'error') this.#errors.inc({ ...labels, error_code: goErrorName(outcome.code) });
    if (outcome.kind !== 'success') return;
    this.#responseSizes.observe(labels, responseBytes);
    if (outcome.usage) {
      this.#inputTokens.observe(labels, outcome.usage.promptTokens);
      this.#outputTokens.observe(labels, outcome.usage.completionTokens);
      this.#cachedTokens.observe(labels, outcome.usage.cachedPromptTokens);
    }
  }
}
