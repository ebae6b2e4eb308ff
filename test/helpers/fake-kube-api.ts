/**
 * A fake Kubernetes API server for tests: real HTTPS with the API server's list/watch semantics, enough
 * for the EPP's clients. Objects live in collections (`/api/v1/namespaces/ns/pods`,
 * `/apis/group/version/namespaces/ns/plural`); every write takes the next resourceVersion and is kept in
 * a history that watches replay from the version they ask for. `compact()` forgets history (a watch from
 * an older version gets a 410 `Expired` ERROR event, as from etcd compaction); `closeWatches()` ends
 * every open watch; `failNext()` makes the next matching requests fail with a status. Label and field
 * selectors filter lists and watches (an object that stops matching is DELETED for that watch). Leases
 * get optimistic concurrency (409 on a stale resourceVersion) and their times must be MicroTime
 * (6 fractional digits), as the real server parses them. TokenReview and SubjectAccessReview answer from
 * tables the test fills.
 */
import http from 'node:http';
import https from 'node:https';
import { generateSelfSigned } from '../../src/server/tls.js';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matches, parseLabelSelector } from '../../src/kube/label-selector.js';

type Obj = { apiVersion?: string; kind?: string; metadata: Record<string, any>; spec?: any; status?: any; [k: string]: unknown };

interface HistoryEvent {
  rv: number;
  collection: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: Obj;
  old: Obj | undefined;
}

interface OpenWatch {
  collection: string;
  labels: ReturnType<typeof parseLabelSelector>;
  name: string | undefined;
  res: http.ServerResponse;
  timer: NodeJS.Timeout | undefined;
}

export interface User {
  username: string;
  uid?: string;
  groups?: string[];
}

let serverCert: Promise<{ cert: string; key: string }> | undefined;

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const PATH = /^\/(api\/v1|apis\/[^/]+\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/;

export const podsPath = (ns: string) => `/api/v1/namespaces/${ns}/pods`;
export const crdPath = (group: string, version: string, ns: string, plural: string) => `/apis/${group}/${version}/namespaces/${ns}/${plural}`;
export const leasesPath = (ns: string) => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export class FakeKubeApi {
  readonly #server: https.Server;
  #rv = 100;
  #compactedBelow = 0;
  readonly #objects = new Map<string, Map<string, Obj>>();
  #history: HistoryEvent[] = [];
  readonly #watches = new Set<OpenWatch>();
  readonly #failures: { method: string; path: RegExp; status: number; times: number }[] = [];
  /** Resource kinds served (`<api prefix>/<plural>`); anything else is 404, like a CRD not installed. */
  readonly served = new Set<string>(['api/v1/pods', 'apis/coordination.k8s.io/v1/leases']);
  /** Every request: method, path and query. */
  readonly requests: { method: string; path: string; query: URLSearchParams }[] = [];
  readonly tokens = new Map<string, User>();
  /** Users allowed to GET /metrics. */
  readonly metricsReaders = new Set<string>();
  tokenReviews = 0;
  accessReviews = 0;
  port = 0;

  readonly #ca: string;

  private constructor(tls: { cert: string; key: string }) {
    this.#ca = tls.cert;
    this.#server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => this.#handle(req, res, body));
    });
  }

  /** Served over TLS with a self-signed certificate (generated once per process) that the kubeconfig trusts. */
  static async start(): Promise<FakeKubeApi> {
    serverCert ??= generateSelfSigned();
    const api = new FakeKubeApi(await serverCert);
    await new Promise<void>((r) => api.#server.listen(0, '127.0.0.1', r));
    api.port = (api.#server.address() as AddressInfo).port;
    return api;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  /** A kubeconfig file pointing at this server with a bearer token. */
  kubeconfig(namespace = 'default', token = 'epp-token'): string {
    const file = join(mkdtempSync(join(tmpdir(), 'fake-kube-')), 'kubeconfig');
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\nclusters: [{name: fake, cluster: {server: "${this.url}", certificate-authority-data: ${Buffer.from(this.#ca).toString('base64')}}}]\nusers: [{name: epp, user: {token: ${token}}}]\ncontexts: [{name: fake, context: {cluster: fake, user: epp, namespace: ${namespace}}}]\ncurrent-context: fake\n`,
    );
    return file;
  }

  serve(group: string, version: string, plural: string): void {
    this.served.add(`apis/${group}/${version}/${plural}`);
  }

  /** Creates or replaces an object; returns it as stored. */
  put(collection: string, obj: Obj): Obj {
    const items = this.#collection(collection);
    const name = obj.metadata.name as string;
    const old = items.get(name);
    const ns = collection.split('/namespaces/')[1]!.split('/')[0]!;
    const stored: Obj = structuredClone(obj);
    stored.metadata = {
      ...stored.metadata,
      namespace: ns,
      uid: old?.metadata['uid'] ?? `uid-${name}-${this.#rv}`,
      creationTimestamp: old?.metadata['creationTimestamp'] ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      resourceVersion: String(++this.#rv),
    };
    items.set(name, stored);
    this.#emit({ rv: this.#rv, collection, type: old ? 'MODIFIED' : 'ADDED', obj: stored, old });
    return stored;
  }

  remove(collection: string, name: string): void {
    const items = this.#collection(collection);
    const old = items.get(name);
    if (!old) return;
    items.delete(name);
    const gone: Obj = structuredClone(old);
    gone.metadata['resourceVersion'] = String(++this.#rv);
    this.#emit({ rv: this.#rv, collection, type: 'DELETED', obj: gone, old });
  }

  get(collection: string, name: string): Obj | undefined {
    return this.#objects.get(collection)?.get(name);
  }

  /** Forgets the history: watches from any version before now get 410 Gone. */
  compact(): void {
    this.#compactedBelow = this.#rv + 1;
    this.#history = [];
  }

  /** Ends every open watch (as an API server restart or a load balancer would). */
  closeWatches(): void {
    for (const w of this.#watches) this.#endWatch(w);
  }

  /** Sends every open watch a 410 Expired ERROR event and ends it (the watch cache fell behind). */
  expireWatches(): void {
    for (const w of this.#watches) {
      w.res.write(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version') })}\n`);
      this.#endWatch(w);
    }
  }

  get openWatches(): number {
    return this.#watches.size;
  }

  /** The next `times` requests with this method whose path matches fail with `status`. */
  failNext(method: string, path: RegExp, statusCode: number, times = 1): void {
    this.#failures.push({ method, path, status: statusCode, times });
  }

  count(method: string, path: RegExp, watch?: boolean): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path) && (watch === undefined || (r.query.get('watch') === 'true') === watch)).length;
  }

  async close(): Promise<void> {
    this.closeWatches();
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }

  #collection(path: string): Map<string, Obj> {
    let c = this.#objects.get(path);
    if (!c) this.#objects.set(path, (c = new Map()));
    return c;
  }

  #emit(e: HistoryEvent): void {
    this.#history.push(e);
    for (const w of this.#watches) if (w.collection === e.collection) this.#send(w, e);
  }

  #send(w: OpenWatch, e: HistoryEvent): void {
    const sel = (o: Obj | undefined) => o !== undefined && matches(w.labels, o.metadata['labels']) && (w.name === undefined || o.metadata['name'] === w.name);
    const nowIn = e.type !== 'DELETED' && sel(e.obj);
    const wasIn = sel(e.old);
    let type: string | undefined;
    if (e.type === 'DELETED') type = wasIn ? 'DELETED' : undefined;
    else if (nowIn) type = wasIn ? 'MODIFIED' : 'ADDED';
    else if (wasIn) type = 'DELETED';
    if (type) w.res.write(`${JSON.stringify({ type, object: e.obj })}\n`);
  }

  #endWatch(w: OpenWatch): void {
    clearTimeout(w.timer);
    this.#watches.delete(w);
    w.res.end();
  }

  #reply(res: http.ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query: url.searchParams });
    const failure = this.#failures.find((f) => f.method === method && f.path.test(url.pathname) && f.times > 0);
    if (failure) {
      failure.times--;
      this.#reply(res, failure.status, status(failure.status, 'InternalError', 'injected failure'));
      return;
    }
    if (method === 'POST' && url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews') return this.#tokenReview(res, body);
    if (method === 'POST' && url.pathname === '/apis/authorization.k8s.io/v1/subjectaccessreviews') return this.#accessReview(res, body);
    const m = url.pathname.match(PATH);
    if (!m || !this.served.has(`${m[1]}/${m[3]}`)) {
      this.#reply(res, 404, status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`));
      return;
    }
    const collection = `/${m[1]}/namespaces/${m[2]}/${m[3]}`;
    const name = m[4] ? decodeURIComponent(m[4]) : undefined;
    let parsed: Obj | undefined;
    if (body) {
      try {
        parsed = JSON.parse(body) as Obj;
      } catch {
        this.#reply(res, 400, status(400, 'BadRequest', 'invalid JSON'));
        return;
      }
    }
    if (method === 'GET' && name === undefined) return url.searchParams.get('watch') === 'true' ? this.#watch(res, collection, url.searchParams) : this.#list(res, collection, url.searchParams);
    if (method === 'GET') {
      const o = this.get(collection, name!);
      return o ? this.#reply(res, 200, o) : this.#reply(res, 404, status(404, 'NotFound', `"${name}" not found`));
    }
    if ((method === 'POST' || method === 'PUT') && parsed) {
      const problem = collection.endsWith('/leases') ? leaseProblem(parsed) : undefined;
      if (problem) return this.#reply(res, 400, status(400, 'BadRequest', problem));
      const target = method === 'POST' ? (parsed.metadata?.['name'] as string) : name!;
      const existing = this.get(collection, target);
      if (method === 'POST' && existing) return this.#reply(res, 409, status(409, 'AlreadyExists', `"${target}" already exists`));
      if (method === 'PUT' && !existing) return this.#reply(res, 404, status(404, 'NotFound', `"${target}" not found`));
      const rv = parsed.metadata?.['resourceVersion'];
      if (method === 'PUT' && rv !== undefined && rv !== existing!.metadata['resourceVersion']) {
        return this.#reply(res, 409, status(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again'));
      }
      const stored = this.put(collection, { ...parsed, metadata: { ...parsed.metadata, name: target } });
      return this.#reply(res, method === 'POST' ? 201 : 200, stored);
    }
    if (method === 'DELETE' && name) {
      const o = this.get(collection, name);
      if (!o) return this.#reply(res, 404, status(404, 'NotFound', `"${name}" not found`));
      this.remove(collection, name);
      return this.#reply(res, 200, o);
    }
    this.#reply(res, 405, status(405, 'MethodNotAllowed', `${method} not supported here`));
  }

  #filters(q: URLSearchParams): { labels: ReturnType<typeof parseLabelSelector>; name: string | undefined } {
    const field = q.get('fieldSelector') ?? '';
    const name = field.match(/^metadata\.name=(.+)$/)?.[1];
    return { labels: parseLabelSelector(q.get('labelSelector') ?? '', 'labelSelector'), name };
  }

  #list(res: http.ServerResponse, collection: string, q: URLSearchParams): void {
    const { labels, name } = this.#filters(q);
    const items = [...this.#collection(collection).values()].filter((o) => matches(labels, o.metadata['labels']) && (name === undefined || o.metadata['name'] === name));
    this.#reply(res, 200, { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: String(this.#rv) }, items });
  }

  #watch(res: http.ServerResponse, collection: string, q: URLSearchParams): void {
    const from = Number(q.get('resourceVersion') ?? '0');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    if (from > 0 && from < this.#compactedBelow - 1) {
      res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.#compactedBelow - 1})`) })}\n`);
      return;
    }
    const { labels, name } = this.#filters(q);
    const w: OpenWatch = { collection, labels, name, res, timer: undefined };
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    if (timeout > 0) w.timer = setTimeout(() => this.#endWatch(w), timeout * 1000);
    res.on('close', () => (clearTimeout(w.timer), this.#watches.delete(w)));
    this.#watches.add(w);
    for (const e of this.#history) if (e.collection === collection && e.rv > from) this.#send(w, e);
    res.flushHeaders(); // headers out now, so the client's watch is established
  }

  #tokenReview(res: http.ServerResponse, body: string): void {
    this.tokenReviews++;
    const review = JSON.parse(body) as { spec?: { token?: string } };
    const user = this.tokens.get(review.spec?.token ?? '');
    this.#reply(res, 201, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: review.spec,
      status: user ? { authenticated: true, user: { username: user.username, uid: user.uid ?? user.username, groups: user.groups ?? ['system:authenticated'] } } : { authenticated: false, error: 'invalid bearer token' },
    });
  }

  #accessReview(res: http.ServerResponse, body: string): void {
    this.accessReviews++;
    const review = JSON.parse(body) as { spec?: { user?: string; nonResourceAttributes?: { path?: string; verb?: string } } };
    const s = review.spec ?? {};
    const allowed = this.metricsReaders.has(s.user ?? '') && s.nonResourceAttributes?.path === '/metrics' && s.nonResourceAttributes?.verb === 'get';
    this.#reply(res, 201, { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: review.spec, status: { allowed, ...(allowed ? {} : { reason: 'no RBAC rule allows it' }) } });
  }
}

/** Why a Lease body would be refused by the real API server, or undefined. */
function leaseProblem(o: Obj): string | undefined {
  for (const f of ['acquireTime', 'renewTime']) {
    const v = o.spec?.[f];
    if (v !== undefined && v !== null && !(typeof v === 'string' && MICRO_TIME.test(v))) return `spec.${f}: must be a MicroTime (RFC 3339 with 6 fractional digits), got ${JSON.stringify(v)}`;
  }
  const d = o.spec?.leaseDurationSeconds;
  if (d !== undefined && !(Number.isInteger(d) && d > 0)) return `spec.leaseDurationSeconds: must be a positive integer`;
  return undefined;
}

/** A pod as the kubelet reports it. */
export function pod(name: string, o: { ip?: string; labels?: Record<string, string>; ready?: boolean; phase?: string; deleting?: boolean; annotations?: Record<string, string> } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: o.labels ?? { app: 'vllm' }, ...(o.annotations ? { annotations: o.annotations } : {}), ...(o.deleting ? { deletionTimestamp: new Date().toISOString() } : {}) },
    spec: { containers: [{ name: 'vllm', image: 'vllm' }] },
    status: {
      phase: o.phase ?? 'Running',
      podIP: o.ip ?? '127.0.0.1',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

/** An InferencePool of `inference.networking.k8s.io/v1`. */
export function poolV1(name: string, matchLabels: Record<string, string>, ports: number[]): Obj {
  return { apiVersion: 'inference.networking.k8s.io/v1', kind: 'InferencePool', metadata: { name }, spec: { selector: { matchLabels }, targetPorts: ports.map((number) => ({ number })), endpointPickerRef: { name: `${name}-epp`, port: { number: 9002 } } } };
}

/** An InferencePool of the older `inference.networking.x-k8s.io/v1alpha2`. */
export function poolV1alpha2(name: string, selector: Record<string, string>, port: number): Obj {
  return { apiVersion: 'inference.networking.x-k8s.io/v1alpha2', kind: 'InferencePool', metadata: { name }, spec: { selector, targetPortNumber: port, extensionRef: { name: `${name}-epp` } } };
}
