/**
 * What `npm start` shows until the ext_proc server lands: a simulated pool of model servers, scraped by the
 * real collector into the endpoint store, and the loaded scheduler routing requests to them. Each request is
 * then really sent to the chosen server, so the prompt-cache hits it reports show the routing at work.
 */
import type { LoadedConfig } from '../config/loader.js';
import type { Endpoint } from '../framework/endpoint.js';
import { primaryTargets } from '../framework/scheduling.js';
import { promptRequest } from '../request/prompt-request.js';
import { LoadTracker } from '../director/load-tracker.js';
import { PickCycle } from '../director/pick-cycle.js';
import { ProfileScheduler } from '../scheduling/scheduler.js';
import { startDataLayer } from '../datalayer/data-layer.js';
import { startSimPool, type SimPool } from '../sim/server.js';

const MODEL = 'demo-model';

/** The model a discovered pool serves: the first answer from `/v1/models`. */
async function servedModel(endpoints: readonly Endpoint[]): Promise<string> {
  for (const e of endpoints) {
    try {
      const res = await fetch(`http://${e.hostPort}/v1/models`, { signal: AbortSignal.timeout(1000) });
      const id = ((await res.json()) as { data?: { id?: string }[] }).data?.[0]?.id;
      if (id) return id;
    } catch {
      // try the next endpoint
    }
  }
  return MODEL;
}

/** Three long documents asked about in turn, with short one-off questions in between. */
function prompts(count: number): string[] {
  const docs = ['the ext_proc protocol', 'paged attention', 'LoRA adapters'].map((topic) => `Here is a long design document about ${topic}. `.repeat(60));
  return Array.from({ length: count }, (_, i) => (i % 2 === 0 ? `${docs[(i / 2) % 3]}Question ${i}: what matters most?` : `Quick question ${i}: say hello.`));
}

export interface DemoOptions {
  readonly refreshMs: number;
  readonly stalenessMs: number;
  readonly log: { warn(message: string): void; info(message: string): void };
}

/**
 * With a discovery plugin in the config, routes over the endpoints it finds; otherwise starts four simulated
 * servers and routes over those.
 */
export async function routeDemo(config: LoadedConfig, print: (line: string) => void, options: DemoOptions): Promise<void> {
  const tracker = new LoadTracker();
  const dl = await startDataLayer(config, { tracker, refreshMs: options.refreshMs, stalenessMs: options.stalenessMs, log: options.log });
  let pool: SimPool | undefined;
  try {
    if (!dl.discovery) {
      pool = await startSimPool(4, { model: MODEL, decodeMsPerToken: 2, prefillTokensPerSecond: 10_000 });
      for (const s of pool.servers) dl.sink.upsert({ name: s.name, namespace: 'default', address: s.address, port: s.port, labels: {} });
      dl.sink.ready();
    }
    const deadline = Date.now() + 5000;
    while (dl.store.snapshot().endpoints.some((e) => e.metrics.updateTime === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const endpoints = dl.store.snapshot().endpoints;
    print(`${pool ? 'simulated pool' : 'discovered pool'}: ${endpoints.map((e) => `${e.metadata.name} ${e.hostPort}`).join(', ')}; metrics scraped every ${options.refreshMs} ms`);
    for (const e of endpoints) {
      const stale = dl.staleReason(e);
      if (stale) print(`  ${e.metadata.name} is stale: ${stale}`);
    }
    if (endpoints.length === 0) return print('no endpoints: nothing to route to');
    const model = pool ? MODEL : await servedModel(endpoints);
    const cycle = new PickCycle({
      producers: config.producers,
      scheduler: new ProfileScheduler(config.scheduler),
      preRequests: config.preRequests,
      loadTracker: tracker,
    });
    const all = prompts(12);
    for (let i = 0; i < all.length; i++) {
      const prompt = all[i]!;
      const { result, reservation } = cycle.run(promptRequest(prompt, { requestId: `demo-${i}`, model }), dl.store.snapshot().endpoints);
      const chosen = primaryTargets(result)[0]!;
      try {
        const res = await fetch(`http://${chosen.endpoint.hostPort}/v1/completions`, { method: 'POST', body: JSON.stringify({ model, prompt, max_tokens: 8 }) });
        const usage = ((await res.json()) as { usage?: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens: number } } }).usage;
        print(
          `request ${String(i).padStart(2)} (${String(usage?.prompt_tokens ?? '?').padStart(4)} tokens) → ${chosen.endpoint.metadata.name} ` +
            `score ${chosen.score.toFixed(2)}   cached on arrival: ${usage?.prompt_tokens_details?.cached_tokens ?? '?'} tokens`,
        );
      } catch (err) {
        print(`request ${String(i).padStart(2)} → ${chosen.endpoint.metadata.name}: ${(err as Error).message}`);
      } finally {
        if (reservation) tracker.release(reservation);
      }
    }
  } finally {
    await dl.close();
    await pool?.close();
  }
}
