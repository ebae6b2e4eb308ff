/**
 * session-affinity-scorer (llm-d): 1 for the pod a session is bound to, 0 for the others.
 * - `encoded_endpoint_header` (default): the session's pod travels with the client: the response carries
 *   header `x-session-token` = base64(`namespace/name` of the pod that served it); the client sends it back.
 * - `session_id`: the client sends a session id (header `x-session-id` by default); the EPP remembers
 *   which pod served it, forgetting sessions idle for `evictionTtlSeconds`.
 */
import type { CycleState } from '../../framework/cycle-state.js';
import type { Endpoint } from '../../framework/endpoint.js';
import type { HeaderEdits } from '../../framework/headers.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { PreRequest, RequestOutcome, ResponseComplete, ResponseHeadersInfo, ResponseReceived } from '../../framework/request-control.js';
import type { Scorer, SchedulingResult } from '../../framework/scheduling.js';
import { ConfigError } from '../../errors.js';
import { paramsOf, type Params } from '../shared/params.js';
import { knownParameters } from '../shared/schema-params.js';

export const SESSION_AFFINITY_SCORER = 'session-affinity-scorer';
export const DEFAULT_SESSION_HEADER = 'x-session-token';
export const DEFAULT_SESSION_ID_HEADER = 'x-session-id';

export type Strategy = 'encoded_endpoint_header' | 'session_id';

export interface SessionAffinityConfig {
  readonly strategy: Strategy;
  /** encoded_endpoint_header: the token header. */
  readonly header: string;
  /** session_id: headers to read the id from, first non-empty wins. */
  readonly idHeaders: readonly string[];
  readonly ttlMs: number;
  /** Which profile's pick the session binds to; '' = the pod that served the request. */
  readonly profileName: string;
}

export const encodeEndpoint = (key: string) => Buffer.from(key, 'utf8').toString('base64');
export function decodeEndpoint(token: string | undefined): string {
  if (!token) return '';
  try {
    return Buffer.from(token, 'base64').toString('utf8');
  } catch {
    return '';
  }
}

export class SessionAffinityScorer implements Scorer, PreRequest, ResponseReceived, ResponseComplete {
  readonly type = SESSION_AFFINITY_SCORER;
  readonly category = 'affinity' as const;
  /** session id → {pod key, last seen ms} (session_id strategy). */
  readonly #bindings = new Map<string, { key: string; seen: number }>();
  /** request id → pod to name in the response (when `profileName` is set), until the response starts. */
  readonly #pending = new Map<string, string>();

  constructor(
    readonly name: string,
    readonly config: SessionAffinityConfig,
    private readonly now: () => number,
  ) {}

  #sessionId(request: InferenceRequest): string {
    for (const h of this.config.idHeaders) {
      const v = request.headers[h]?.trim();
      if (v) return v;
    }
    return '';
  }

  /** The bound pod's key for this request, if any. */
  boundPod(request: InferenceRequest): string {
    if (this.config.strategy === 'encoded_endpoint_header') return decodeEndpoint(request.headers[this.config.header]);
    const id = this.#sessionId(request);
    const b = id ? this.#bindings.get(id) : undefined;
    if (!b) return '';
    if (this.now() - b.seen > this.config.ttlMs) {
      this.#bindings.delete(id);
      return '';
    }
    return b.key;
  }

  score(_cs: CycleState, request: InferenceRequest, endpoints: readonly Endpoint[]): Float64Array {
    const scores = new Float64Array(endpoints.length);
    const bound = this.boundPod(request);
    if (bound) for (let i = 0; i < endpoints.length; i++) if (endpoints[i]!.key === bound) scores[i] = 1;
    return scores;
  }

  #target(result: SchedulingResult): Endpoint | undefined {
    const profile = this.config.profileName || result.primaryProfileName;
    return result.profileResults.get(profile)?.targetEndpoints[0]?.endpoint;
  }

  preRequest(request: InferenceRequest, result: SchedulingResult): void {
    const target = this.#target(result);
    if (this.config.strategy === 'session_id') {
      const id = this.#sessionId(request);
      if (id && target) {
        this.#bindings.set(id, { key: target.key, seen: this.now() });
        this.#sweep();
      }
    } else if (this.config.profileName && target) {
      this.#pending.set(request.requestId, target.key);
    }
  }

  responseReceived(request: InferenceRequest, _response: ResponseHeadersInfo, endpoint: Endpoint | undefined, headers: HeaderEdits): void {
    if (this.config.strategy !== 'encoded_endpoint_header') return;
    const pending = this.#pending.get(request.requestId);
    this.#pending.delete(request.requestId);
    const key = this.config.profileName ? pending : endpoint?.key;
    if (key) headers.set(this.config.header, encodeEndpoint(key));
  }

  responseComplete(request: InferenceRequest, _outcome: RequestOutcome): void {
    this.#pending.delete(request.requestId);
  }

  /** Drops idle sessions, a few at a time in insertion order (oldest bindings first). */
  #sweep(): void {
    const now = this.now();
    let checked = 0;
    for (const [id, b] of this.#bindings) {
      if (++checked > 8) break;
      if (now - b.seen > this.config.ttlMs) this.#bindings.delete(id);
    }
  }

  get sessions(): number {
    return this.#bindings.size;
  }
}

function positive(p: Params, key: string, fallback: number, path: string): number {
  const v = p[key];
  if (v === undefined || v === null || v === 0) return fallback;
  if (typeof v !== 'number' || !(v > 0)) throw new ConfigError(path, `must be > 0, got ${JSON.stringify(v)}`);
  return v;
}

export function parseSessionAffinityConfig(parameters: unknown): SessionAffinityConfig {
  const p = paramsOf(parameters);
  const strategy = (p['strategy'] ?? 'encoded_endpoint_header') as string;
  if (strategy !== 'encoded_endpoint_header' && strategy !== 'session_id') {
    throw new ConfigError('parameters.strategy', `must be "encoded_endpoint_header" or "session_id", got ${JSON.stringify(strategy)}`);
  }
  const enc = paramsOf(p['encodedEndpointHeaderConfig']);
  const sid = paramsOf(p['sessionIdConfig']);
  const header = typeof enc['header'] === 'string' && enc['header'].trim() ? enc['header'].trim().toLowerCase() : DEFAULT_SESSION_HEADER;
  const sources = sid['sources'] ?? [{ header: DEFAULT_SESSION_ID_HEADER }];
  if (!Array.isArray(sources)) throw new ConfigError('parameters.sessionIdConfig.sources', 'must be a list');
  const idHeaders: string[] = [];
  sources.forEach((s: unknown, i) => {
    const src = (s ?? {}) as Record<string, unknown>;
    const h = src['header'];
    const a = src['attribute'];
    if ((typeof h === 'string' && h !== '') === (typeof a === 'string' && a !== '')) {
      throw new ConfigError(`parameters.sessionIdConfig.sources[${i}]`, 'exactly one of header or attribute must be set');
    }
    if (typeof a === 'string' && a !== '') throw new ConfigError(`parameters.sessionIdConfig.sources[${i}].attribute`, 'request attributes as session sources are not supported; use a header');
    idHeaders.push((h as string).trim().toLowerCase());
  });
  const ttl = positive(sid, 'evictionTtlSeconds', 300, 'parameters.sessionIdConfig.evictionTtlSeconds');
  positive(sid, 'evictionSweepSeconds', 10, 'parameters.sessionIdConfig.evictionSweepSeconds');
  const profileName = typeof p['profileName'] === 'string' ? p['profileName'] : '';
  return { strategy, header, idHeaders, ttlMs: ttl * 1000, profileName };
}

export const registration: PluginRegistration = {
  type: SESSION_AFFINITY_SCORER,
  parameters: knownParameters('strategy', 'encodedEndpointHeaderConfig', 'sessionIdConfig', 'profileName'),
  factory: (name, parameters, handle) => new SessionAffinityScorer(name, parseSessionAffinityConfig(parameters), handle.services.now),
};
