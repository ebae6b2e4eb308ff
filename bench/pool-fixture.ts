/** Synthetic pools and prompts for benchmarks: deterministic, realistic spreads of load. */
import type { Endpoint } from '../src/framework/endpoint.js';
import { EMPTY_METRICS } from '../src/framework/endpoint.js';
import type { InferenceRequest } from '../src/framework/request.js';
import { promptRequest } from '../src/request/prompt-request.js';
import type { LoadTracker } from '../src/director/load-tracker.js';
import { seededRandom } from '../src/scheduling/random.js';

/** `labels(i)`: endpoint i's labels (e.g. llm-d.ai/role for P/D). */
export function syntheticPool(size: number, tracker: LoadTracker, seed = 7, labels: (i: number) => Record<string, string> = () => ({})): Endpoint[] {
  const random = seededRandom(seed);
  return Array.from({ length: size }, (_, i) => {
    const name = `vllm-${i}`;
    const key = `default/${name}`;
    const address = `10.${(i >> 8) & 255}.${i & 255}.1`;
    return {
      key,
      hostPort: `${address}:8000`,
      metadata: { name, namespace: 'default', address, port: 8000, labels: labels(i) },
      metrics: {
        ...EMPTY_METRICS,
        waitingQueueSize: Math.floor(random.next() * 8),
        runningRequestsSize: Math.floor(random.next() * 32),
        kvCacheUsage: random.next() * 0.9,
        activeModels: new Set(['adapter-a']),
        maxActiveModels: 4,
        updateTime: Date.now(),
      },
      load: tracker.loadOf(key),
      attributes: new Map(),
    };
  });
}

/** `count` chat-like prompts of `bytes` bytes that share a system prompt, as a real workload does. */
export function syntheticRequests(count: number, bytes: number, model = 'llama-3-8b'): InferenceRequest[] {
  const system = 'You are a helpful assistant. Answer precisely and cite sources. '.repeat(Math.ceil(bytes / 4 / 64)).slice(0, bytes / 4);
  return Array.from({ length: count }, (_, i) => {
    let user = `Question ${i}: `;
    while (system.length + user.length < bytes) user += `tell me about topic ${i * 31 + user.length}; `;
    const text = (system + user).slice(0, bytes);
    return promptRequest(text, { requestId: `bench-${i}`, model });
  });
}
