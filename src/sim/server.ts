/**
 * One simulated OpenAI-compatible model server on loopback: completions and chat completions (JSON or SSE
 * with usage), /v1/models and /metrics, backed by a SimEngine.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimCancelled, SimEngine, type EngineOptions, type SimResult } from './engine.js';
import { renderMetrics, type Flavor } from './metrics-page.js';
import { requestedNames, restrictToNames } from './name-filter.js';
import { handleRender, isRenderPath, simTokenizer } from './render.js';
import { KvEventPublisher, type KvEventEncoding, type KvHashFormat } from './kv-events.js';

/** KV-cache events as vLLM's `--kv-events-config` publishes them; see kv-events.ts. Off unless given. */
export interface SimKvEventsOptions {
  /** Bind the PUB socket on the server's host at this port (vLLM's default endpoint is `tcp://*:5557`); 0 picks a free port. */
  readonly port?: number;
  /** Instead, connect the PUB socket to a central subscriber (an EPP's `zmqEndpoint`), e.g. `tcp://127.0.0.1:5557`. */
  readonly connect?: string;
  /** Bind the ROUTER replay socket on the server's host at this port (0 picks a free port); no replay when absent. */
  readonly replayPort?: number;
  /** Default `kv@<host>:<port>@<model>`, the form llm-d expects. */
  readonly topic?: string;
  readonly encoding?: KvEventEncoding;
  readonly hashFormat?: KvHashFormat;
  readonly bufferSteps?: number;
}

export interface SimServerOptions extends Partial<EngineOptions> {
  readonly port?: number;
  readonly host?: string;
  readonly flavor?: Flavor;
  readonly name?: string;
  /** The model folder whose tokenizer answers the render endpoints; the bundled Qwen3 one by default. */
  readonly tokenizerPath?: string;
  /** Publish KV-cache events; prompts are then tokenized with the tokenizer above so blocks carry real token ids. */
  readonly kvEvents?: SimKvEventsOptions;
}

export interface SimServer {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly url: string;
  readonly engine: SimEngine;
  /** The KV-event publisher, when `kvEvents` was given. */
  readonly kvEvents: KvEventPublisher | undefined;
  /** vLLM's /reset_prefix_cache: the cache empties and AllBlocksCleared is published. */
  resetPrefixCache(): void;
  /** As if the process restarted: the cache empties silently and the event sequence starts again at 0. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** The header the EPP's P/D handlers set for the decode pod's sidecar. */
const PREFILLER_HEADER = 'x-prefiller-host-port';

/**
 * The sidecar's prefill step: the same request with one output token, sent to `hostPort`; resolves with
 * `hostPort` when it answered 200, undefined otherwise (the decode pod then prefills itself, as the
 * sidecar falls back to).
 */
async function remotePrefill(hostPort: string, path: string, body: string): Promise<string | undefined> {
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    const res = await fetch(`http://${hostPort}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...json, max_tokens: 1, stream: false }) });
    await res.arrayBuffer();
    return res.ok ? hostPort : undefined;
  } catch {
    return undefined;
  }
}

const MAX_BODY = 16 * 1024 * 1024;

function sendError(res: http.ServerResponse, status: number, message: string, type = 'BadRequestError'): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ object: 'error', message, type, code: status }));
}

/** The text the model "sees": the prompt, or the chat messages' contents. */
function promptOf(body: Record<string, unknown>, chat: boolean): string | undefined {
  if (!chat) return typeof body['prompt'] === 'string' ? body['prompt'] : Array.isArray(body['prompt']) ? body['prompt'].join('') : undefined;
  if (!Array.isArray(body['messages'])) return undefined;
  return JSON.stringify(body['messages']);
}

function usageOf(r: SimResult) {
  return { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens, prompt_tokens_details: { cached_tokens: r.cachedTokens } };
}

type Tokenize = (chat: boolean, body: Record<string, unknown>) => Promise<Uint32Array>;

/** The ids the EPP's `local` token producer computes for the same body (several prompts: joined, as the text is). */
function tokenizerFor(dir: string | undefined): Tokenize {
  return async (chat, body) => {
    const prompts = await simTokenizer(dir).tokenize(chat ? 'chat-completions' : 'completions', body);
    if (!prompts || prompts.length === 0) throw new Error('no prompt to tokenize');
    if (prompts.length === 1) return prompts[0]!.tokenIds;
    const out = new Uint32Array(prompts.reduce((n, p) => n + p.tokenIds.length, 0));
    let at = 0;
    for (const p of prompts) (out.set(p.tokenIds, at), (at += p.tokenIds.length));
    return out;
  };
}

async function handleGeneration(engine: SimEngine, res: http.ServerResponse, chat: boolean, raw: string, tokenize?: Tokenize): Promise<void> {
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    body = parsed as Record<string, unknown>;
  } catch {
    return sendError(res, 400, 'request body is not a JSON object');
  }
  const model = body['model'];
  if (typeof model !== 'string' || model === '') return sendError(res, 400, 'model is required');
  const adapter = model === engine.options.model ? undefined : model;
  if (adapter && !engine.options.adapters.includes(adapter)) return sendError(res, 404, `The model \`${model}\` does not exist.`, 'NotFoundError');
  const prompt = promptOf(body, chat);
  if (prompt === undefined) return sendError(res, 400, chat ? 'messages must be a list' : 'prompt must be a string');
  const maxTokens = Number(body['max_tokens'] ?? body['max_completion_tokens'] ?? 16);
  if (!Number.isInteger(maxTokens) || maxTokens < 1) return sendError(res, 400, 'max_tokens must be a positive integer');
  const stream = body['stream'] === true;
  const includeUsage = (body['stream_options'] as { include_usage?: boolean } | undefined)?.include_usage === true;
  const id = `cmpl-${Math.random().toString(36).slice(2, 10)}`;
  const object = chat ? 'chat.completion' : 'text_completion';
  const piece = (i: number) => `tok${i} `;
  const encoded = new TextEncoder().encode(prompt);
  let tokenIds: Uint32Array | undefined;
  if (tokenize) {
    try {
      tokenIds = await tokenize(chat, body);
    } catch (err) {
      return sendError(res, 400, `cannot tokenize the request: ${(err as Error).message}`);
    }
  }
  const refused = engine.refusal(encoded.length, maxTokens, tokenIds?.length);
  if (refused) return sendError(res, 400, refused);
  let aborted = false;
  const cancel = new AbortController();
  res.on('close', () => {
    aborted = !res.writableFinished;
    if (aborted) cancel.abort(); // the client left: the request leaves the queue (or the batch)
  });
  if (stream) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const result = await engine.submit({
    prompt: encoded,
    ...(tokenIds ? { tokenIds } : {}),
    maxTokens,
    signal: cancel.signal,
    ...(adapter ? { adapter } : {}),
    onToken: (i) => {
      if (!stream || aborted) return;
      const choice = chat ? { index: 0, delta: { content: piece(i) }, finish_reason: null } : { index: 0, text: piece(i), finish_reason: null };
      res.write(`data: ${JSON.stringify({ id, object: `${object}.chunk`, model, choices: [choice] })}\n\n`);
    },
  });
  if (aborted) return;
  const text = Array.from({ length: result.completionTokens }, (_, i) => piece(i)).join('');
  if (stream) {
    if (includeUsage) res.write(`data: ${JSON.stringify({ id, object: `${object}.chunk`, model, choices: [], usage: usageOf(result) })}\n\n`);
    res.end('data: [DONE]\n\n');
    return;
  }
  const choice = chat ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'length' } : { index: 0, text, finish_reason: 'length' };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id, object, model, choices: [choice], usage: usageOf(result) }));
}

export async function startSimServer(options: SimServerOptions = {}): Promise<SimServer> {
  const engine = new SimEngine(options);
  const flavor = options.flavor ?? 'vllm';
  const tokenize = options.kvEvents ? tokenizerFor(options.tokenizerPath) : undefined;
  let kvEvents: KvEventPublisher | undefined;
  /** As a restarted process: the event sockets reopen with the sequence at 0, and the cache is empty with nothing published. */
  const restart = async () => {
    await kvEvents?.restart();
    engine.forgetCache();
  };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === '/reset_prefix_cache') {
      engine.resetPrefixCache();
      return res.end();
    }
    if (req.method === 'POST' && path === '/sim/restart') {
      void restart().then(
        () => res.end(),
        (err: Error) => sendError(res, 500, err.message, 'InternalServerError'),
      );
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      return res.end(restrictToNames(renderMetrics(engine, flavor), requestedNames(req.url ?? '')));
    }
    if (req.method === 'GET' && path === '/v1/models') {
      const ids = [engine.options.model, ...engine.options.adapters];
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ object: 'list', data: ids.map((id) => ({ id, object: 'model', owned_by: 'epp-sim' })) }));
    }
    if (req.method === 'GET' && path === '/health') return res.end();
    const chat = path === '/v1/chat/completions';
    const render = req.method === 'POST' && isRenderPath(path);
    if (!render && (req.method !== 'POST' || (!chat && path !== '/v1/completions'))) return sendError(res, 404, `no route ${req.method} ${path}`, 'NotFoundError');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return sendError(res, 413, 'request body too large');
      if (render) return void handleRender(res, path, Buffer.concat(chunks).toString('utf8'), [engine.options.model, ...engine.options.adapters], options.tokenizerPath);
      const body = Buffer.concat(chunks).toString('utf8');
      // P/D: like llm-d's routing sidecar on a decode pod, run the prefill on the pod the EPP named first.
      const prefiller = req.headers[PREFILLER_HEADER];
      const prefilled = typeof prefiller === 'string' && prefiller !== '' ? remotePrefill(prefiller, path, body) : Promise.resolve(undefined);
      prefilled
        .then((by) => {
          if (by) res.setHeader('x-sim-prefilled-by', by);
          return handleGeneration(engine, res, chat, body, tokenize);
        })
        .catch((err: Error) => {
        if (err instanceof SimCancelled) return;
        if (!res.headersSent) sendError(res, 503, err.message, 'ServiceUnavailableError');
        else res.destroy();
      });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const closeHttp = () =>
    new Promise<void>((resolve) => {
      engine.close();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  if (options.kvEvents) {
    const o = options.kvEvents;
    try {
      kvEvents = await KvEventPublisher.start({
        endpoint: o.connect !== undefined ? { connect: o.connect } : { bind: `tcp://${host}:${o.port ?? 5557}` },
        ...(o.replayPort !== undefined ? { replayBind: `tcp://${host}:${o.replayPort}` } : {}),
        topic: o.topic ?? `kv@${host}:${port}@${engine.options.model}`,
        ...(o.encoding ? { encoding: o.encoding } : {}),
        ...(o.hashFormat ? { hashFormat: o.hashFormat } : {}),
        ...(o.bufferSteps ? { bufferSteps: o.bufferSteps } : {}),
      });
    } catch (err) {
      await closeHttp();
      throw err;
    }
    engine.publishKvEvents(kvEvents);
  }
  const publisher = kvEvents;
  return {
    name: options.name ?? `sim-${port}`,
    address: host,
    port,
    url: `http://${host}:${port}`,
    engine,
    kvEvents: publisher,
    resetPrefixCache: () => engine.resetPrefixCache(),
    restart,
    close: async () => {
      await closeHttp();
      await publisher?.close();
    },
  };
}

export interface SimPool {
  readonly servers: readonly SimServer[];
  close(): Promise<void>;
}

/**
 * `count` servers; `basePort` 0 picks free ports. With `distinctHosts` (the default when KV events bind a
 * fixed port) server i listens on its own loopback address 127.0.0.(i+1), as pods have their own IPs, so
 * every server binds the same KV-event port as vLLM pods do and llm-d's discovery (`<address>:<socketPort>`)
 * finds them; this needs Linux, where all of 127.0.0.0/8 is loopback.
 */
export async function startSimPool(count: number, options: SimServerOptions & { basePort?: number; distinctHosts?: boolean } = {}): Promise<SimPool> {
  const servers: SimServer[] = [];
  const kv = options.kvEvents;
  const distinct = options.distinctHosts ?? (kv !== undefined && kv.connect === undefined && (kv.port ?? 5557) !== 0);
  try {
    for (let i = 0; i < count; i++) {
      const host = distinct ? `127.0.0.${i + 1}` : options.host;
      servers.push(await startSimServer({ ...options, ...(host ? { host } : {}), name: `sim-${i}`, port: options.basePort ? options.basePort + i : 0 }));
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  return { servers, close: async () => void (await Promise.all(servers.map((s) => s.close()))) };
}
