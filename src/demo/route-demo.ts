/**
 * What `npm start` shows until the ext_proc server lands: a simulated pool of model servers, scraped by the
 * real collector into the endpoint store, and the loaded scheduler routing requests to them. Each request is
 * then really sent to the chosen server, so the prompt-cache hits it reports show the routing at work.
 */
import type { LoadedConfig } from '../config/loader.js';
import type { InferenceRequest } from '../framework/request.js';
import { primaryTargets } from '../framework/scheduling.js';
import { LoadTracker } from '../director/load-tracker.js';
import { PickCycle } from '../director/pick-cycle.js';
import { ProfileScheduler } from '../scheduling/scheduler.js';
import { EndpointStore } from '../datalayer/endpoint-store.js';
import { MetricsCollector } from '../datalayer/collector.js';
import { startSimPool } from '../sim/server.js';

const MODEL = 'demo-model';

function completionRequest(id: number, prompt: string): InferenceRequest {
  const prefixText = new TextEncoder().encode(prompt);
  return {
    requestId: `demo-${id}`,
    incomingModel: MODEL,
    targetModel: MODEL,
    priority: 0,
    objective: '',
    headers: {},
    body: { api: 'completions', json: { model: MODEL, prompt }, prefixText, cacheSalt: '', stream: false },
    promptTokens: Math.ceil(prefixText.length / 4),
  };
}

/** Three long documents asked about in turn, with short one-off questions in between. */
function prompts(count: number): string[] {
  const docs = ['the ext_proc protocol', 'paged attention', 'LoRA adapters'].map((topic) => `Here is a long design document about ${topic}. `.repeat(60));
  return Array.from({ length: count }, (_, i) => (i % 2 === 0 ? `${docs[(i / 2) % 3]}Question ${i}: what matters most?` : `Quick question ${i}: say hello.`));
}

export async function routeDemo(config: LoadedConfig, print: (line: string) => void, refreshMs = 50): Promise<void> {
  const pool = await startSimPool(4, { model: MODEL, decodeMsPerToken: 2, prefillTokensPerSecond: 10_000 });
  const tracker = new LoadTracker();
  const store = new EndpointStore(tracker, config.endpointListeners);
  const collector = new MetricsCollector(store, { intervalMs: refreshMs });
  try {
    for (const s of pool.servers) store.upsert({ name: s.name, namespace: 'default', address: s.address, port: s.port, labels: {} });
    store.ready();
    collector.sync(store.snapshot().endpoints);
    const deadline = Date.now() + 5000;
    while (store.snapshot().endpoints.some((e) => e.metrics.updateTime === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    print(`simulated pool: ${pool.servers.map((s) => `${s.name} ${s.url}`).join(', ')}; metrics scraped every ${refreshMs} ms`);
    const cycle = new PickCycle({
      producers: config.producers,
      scheduler: new ProfileScheduler(config.scheduler),
      preRequests: config.preRequests,
      loadTracker: tracker,
    });
    const all = prompts(12);
    for (let i = 0; i < all.length; i++) {
      const prompt = all[i]!;
      const { result, reservation } = cycle.run(completionRequest(i, prompt), store.snapshot().endpoints);
      const chosen = primaryTargets(result)[0]!;
      try {
        const res = await fetch(`http://${chosen.endpoint.hostPort}/v1/completions`, { method: 'POST', body: JSON.stringify({ model: MODEL, prompt, max_tokens: 8 }) });
        const usage = ((await res.json()) as { usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } } }).usage;
        print(
          `request ${String(i).padStart(2)} (${String(usage.prompt_tokens).padStart(4)} tokens) → ${chosen.endpoint.metadata.name} ` +
            `score ${chosen.score.toFixed(2)}   cached on arrival: ${usage.prompt_tokens_details.cached_tokens} tokens`,
        );
      } finally {
        if (reservation) tracker.release(reservation);
      }
    }
  } finally {
    await collector.close();
    await pool.close();
  }
}
