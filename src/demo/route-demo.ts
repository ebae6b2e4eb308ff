/**
 * What `npm start` shows until the ext_proc server lands: the loaded scheduler routing a handful of
 * requests over an in-process simulated pool, with the reservation visible from one request to the next.
 */
import type { LoadedConfig } from '../config/loader.js';
import type { Endpoint } from '../framework/endpoint.js';
import { EMPTY_METRICS } from '../framework/endpoint.js';
import type { InferenceRequest } from '../framework/request.js';
import { primaryTargets } from '../framework/scheduling.js';
import { LoadTracker } from '../director/load-tracker.js';
import { PickCycle } from '../director/pick-cycle.js';
import { ProfileScheduler } from '../scheduling/scheduler.js';

const POOL: { name: string; queue: number; kv: number }[] = [
  { name: 'vllm-0', queue: 0, kv: 0.1 },
  { name: 'vllm-1', queue: 1, kv: 0.3 },
  { name: 'vllm-2', queue: 0, kv: 0.2 },
  { name: 'vllm-3', queue: 6, kv: 0.85 },
];

function endpoint(spec: (typeof POOL)[number], i: number, tracker: LoadTracker): Endpoint {
  const key = `default/${spec.name}`;
  const address = `10.0.0.${i + 10}`;
  return {
    key,
    hostPort: `${address}:8000`,
    metadata: { name: spec.name, namespace: 'default', address, port: 8000, labels: {} },
    metrics: { ...EMPTY_METRICS, waitingQueueSize: spec.queue, kvCacheUsage: spec.kv, updateTime: Date.now() },
    load: tracker.recordFor(key),
    attributes: new Map(),
  };
}

function request(id: number, prompt: string): InferenceRequest {
  const prefixText = new TextEncoder().encode(prompt);
  return {
    requestId: `demo-${id}`,
    incomingModel: 'demo-model',
    targetModel: 'demo-model',
    priority: 0,
    objective: '',
    headers: {},
    body: { api: 'completions', prefixText, cacheSalt: '', stream: false },
    promptTokens: Math.ceil(prefixText.length / 4),
  };
}

export function routeDemo(config: LoadedConfig, print: (line: string) => void): void {
  const tracker = new LoadTracker();
  const pool = POOL.map((p, i) => endpoint(p, i, tracker));
  const cycle = new PickCycle({
    producers: config.producers,
    scheduler: new ProfileScheduler(config.scheduler),
    preRequests: config.preRequests,
    loadTracker: tracker,
  });
  const essay = 'Summarise the following design document for an inference gateway. '.repeat(20);
  const prompts = [essay + 'Part one.', 'Translate to French: the weather is nice today.', essay + 'Part two.', 'Write a haiku about GPUs.'];
  print(`pool: ${POOL.map((p) => `${p.name} (queue ${p.queue}, kv ${p.kv})`).join(', ')}`);
  for (let i = 0; i < 8; i++) {
    const prompt = prompts[i % prompts.length]!;
    const { result } = cycle.run(request(i, prompt), pool);
    const best = primaryTargets(result)[0];
    const inFlight = pool.map((e) => `${e.metadata.name}=${e.load.inFlightRequests}`).join(' ');
    print(`request ${i} (${prompt.length} chars) → ${best?.endpoint.metadata.name} ${best?.endpoint.hostPort} score ${best?.score.toFixed(3)}   in flight: ${inFlight}`);
  }
}
