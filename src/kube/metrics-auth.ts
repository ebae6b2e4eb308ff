/**
 * `--metrics-endpoint-auth`, as controller-runtime's WithAuthenticationAndAuthorization filter the Go EPP
 * uses: the caller's bearer token is checked with a TokenReview, then a SubjectAccessReview asks whether
 * that user may `get` the non-resource URL `/metrics`. No or bad token → 401, not allowed → 403, the API
 * server failing → 500. Answers are cached (tokens 1 min, allowed 5 min, denied 30 s) and the caches are
 * bounded, so Prometheus scraping every few seconds costs the API server almost nothing.
 */
import { createHash } from 'node:crypto';
import type { KubeClient } from './client.js';
import { describeError } from './client.js';

export type AuthResult = { readonly ok: true } | { readonly ok: false; readonly status: 401 | 403 | 500; readonly message: string };

interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

const TOKEN_TTL_MS = 60_000;
const ALLOW_TTL_MS = 5 * 60_000;
const DENY_TTL_MS = 30_000;
const MAX_ENTRIES = 1024;

class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  get(key: string, now: number): V | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.value;
  }
  set(key: string, value: V, expires: number): void {
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, expires });
  }
}

export class MetricsAuth {
  readonly #tokens = new TtlCache<UserInfo | null>();
  readonly #decisions = new TtlCache<boolean>();

  constructor(
    private readonly client: KubeClient,
    private readonly log: { warn(message: string): void },
    private readonly path = '/metrics',
    private readonly now: () => number = Date.now,
  ) {}

  async check(authorization: string | undefined): Promise<AuthResult> {
    const token = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (!token) return { ok: false, status: 401, message: 'Unauthorized: a bearer token is required' };
    const tokenKey = createHash('sha256').update(token).digest('hex');
    let user = this.#tokens.get(tokenKey, this.now());
    try {
      if (user === undefined) {
        const review = await this.client.authentication.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
        const u = review.status?.authenticated ? review.status.user : undefined;
        user = u?.username ? { username: u.username, ...(u.uid ? { uid: u.uid } : {}), ...(u.groups ? { groups: u.groups } : {}), ...(u.extra ? { extra: u.extra } : {}) } : null;
        this.#tokens.set(tokenKey, user, this.now() + TOKEN_TTL_MS);
      }
      if (user === null) return { ok: false, status: 401, message: 'Unauthorized: the token was not accepted' };
      const decisionKey = JSON.stringify([user.username, user.uid, user.groups]);
      let allowed = this.#decisions.get(decisionKey, this.now());
      if (allowed === undefined) {
        const review = await this.client.authorization.createSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: { user: user.username, ...(user.uid ? { uid: user.uid } : {}), ...(user.groups ? { groups: user.groups } : {}), ...(user.extra ? { extra: user.extra } : {}), nonResourceAttributes: { path: this.path, verb: 'get' } },
          },
        });
        allowed = review.status?.allowed === true;
        this.#decisions.set(decisionKey, allowed, this.now() + (allowed ? ALLOW_TTL_MS : DENY_TTL_MS));
      }
      return allowed ? { ok: true } : { ok: false, status: 403, message: `Forbidden: user "${user.username}" may not get ${this.path}` };
    } catch (err) {
      this.log.warn(`metrics endpoint auth: the API server could not review a request: ${describeError(err)}`);
      return { ok: false, status: 500, message: 'Internal Server Error: authentication or authorization failed' };
    }
  }
}
