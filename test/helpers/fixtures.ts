/** Builders for endpoints and requests in tests. Not a test file itself (no `.test.` in the name). */
import type { Endpoint, EndpointMetrics } from '../../src/framework/endpoint.js';
import { EMPTY_METRICS } from '../../src/framework/endpoint.js';
import type { ApiKind, InferenceRequest } from '../../src/framework/request.js';
import type { PluginHandle, PluginServices } from '../../src/framework/plugin.js';
import { LoadTracker } from '../../src/director/load-tracker.js';
import { seededRandom } from '../../src/scheduling/random.js';
import { WorkerPool } from '../../src/pool/worker-pool.js';
import { promptRequest } from '../../src/request/prompt-request.js';

export interface EndpointSpec {
  name: string;
  namespace?: string;
  address?: string;
  port?: number;
  labels?: Record<string, string>;
  queue?: number;
  running?: number;
  kv?: number;
  active?: string[];
  waiting?: string[];
  maxLora?: number;
  blockSize?: number;
  numBlocks?: number;
  updateTime?: number;
  attributes?: Map<string, unknown>;
}

let nextIp = 1;

/** An endpoint whose load record comes from `tracker` (a fresh one when omitted). */
export function makeEndpoint(spec: EndpointSpec, tracker: LoadTracker = new LoadTracker()): Endpoint {
  const namespace = spec.namespace ?? 'default';
  const address = spec.address ?? `10.0.0.${nextIp++ % 250}`;
  const port = spec.port ?? 8000;
  const key = `${namespace}/${spec.name}`;
  const metrics: EndpointMetrics = {
    ...EMPTY_METRICS,
    waitingQueueSize: spec.queue ?? 0,
    runningRequestsSize: spec.running ?? 0,
    kvCacheUsage: spec.kv ?? 0,
    activeModels: new Set(spec.active ?? []),
    waitingModels: new Set(spec.waiting ?? []),
    maxActiveModels: spec.maxLora ?? 0,
    cacheBlockSize: spec.blockSize ?? 0,
    cacheNumBlocks: spec.numBlocks ?? 0,
    updateTime: spec.updateTime ?? 0,
  };
  return {
    key,
    hostPort: `${address}:${port}`,
    metadata: { name: spec.name, namespace, address, port, labels: spec.labels ?? {} },
    metrics,
    load: tracker.loadOf(key),
    attributes: spec.attributes ?? new Map(),
  };
}

export interface RequestSpec {
  model?: string;
  targetModel?: string;
  prompt?: string;
  cacheSalt?: string;
  api?: ApiKind;
  priority?: number;
  headers?: Record<string, string>;
  requestId?: string;
}

let nextRequest = 1;

/** A completions request whose prefix text is `prompt`. */
export function makeRequest(spec: RequestSpec = {}): InferenceRequest {
  const model = spec.model ?? 'base-model';
  const request = promptRequest(spec.prompt ?? '', {
    requestId: spec.requestId ?? `req-${nextRequest++}`,
    model,
    targetModel: spec.targetModel ?? model,
    cacheSalt: spec.cacheSalt ?? '',
    priority: spec.priority ?? 0,
    headers: spec.headers ?? {},
  });
  return spec.api ? { ...request, body: { ...request.body, api: spec.api } } : request;
}

/** A worker pool never started: every task runs inline. */
const inlineTasks = new WorkerPool();

/** Plugin services with a seeded random source, a settable clock and inline worker tasks. */
export function testServices(seed = 1, now: () => number = () => 1_000_000): PluginServices {
  return { random: seededRandom(seed), now, workerTasks: inlineTasks };
}

/** A PluginHandle for calling factories directly; warnings are collected. */
export function testHandle(services: PluginServices = testServices()): PluginHandle & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    warn: (m: string) => warnings.push(m),
    plugin: () => undefined,
    services,
  };
}
