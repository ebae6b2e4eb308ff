/**
 * List + watch of one Kubernetes collection, kept as a local copy (client-go's reflector, in small):
 * list, then watch from the list's resourceVersion with bookmarks; a watch that ends normally is resumed
 * from the last resourceVersion seen; 410 Gone (the version was compacted away) means list again; any
 * other failure retries after an exponential backoff with jitter. `onSync` sees the whole copy after
 * every list and every event.
 */
import type { Watch } from '@kubernetes/client-node';
import { describeError, statusOf } from './client.js';

export interface KubeMeta {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: unknown;
  creationTimestamp?: unknown;
}
export interface KubeObject {
  metadata?: KubeMeta;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface ReflectorLog {
  warn(message: string): void;
  info(message: string): void;
}

export interface ReflectorOptions<T extends KubeObject> {
  /** For log lines: `pods in ml matching app=vllm`. */
  readonly what: string;
  readonly list: () => Promise<ListResult<T>>;
  readonly watch: Watch;
  /** The collection's URL path, e.g. `/api/v1/namespaces/ml/pods`. */
  readonly path: string;
  /** labelSelector / fieldSelector, as given to the list. */
  readonly query?: Readonly<Record<string, string>>;
  readonly onSync: (items: ReadonlyMap<string, T>) => void;
  readonly log: ReflectorLog;
  /** Server-side watch timeout; the watch is then resumed (client-go uses 5–10 minutes). */
  readonly watchTimeoutSeconds?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

const DEFAULT_BACKOFF = { initialMs: 200, maxMs: 30_000 };

/** Failures that retrying will not fix without someone changing the cluster (RBAC, a missing CRD). */
export const isPermanent = (status: number | undefined) => status === 401 || status === 403 || status === 404;

export class Reflector<T extends KubeObject> {
  readonly #o: ReflectorOptions<T>;
  readonly #items = new Map<string, T>();
  #resourceVersion = '';
  #stopped = false;
  #synced = false;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #abort: AbortController | undefined;
  #relists = 0;
  #watches = 0;

  constructor(options: ReflectorOptions<T>) {
    this.#o = options;
  }

  /** Lists once; resolves when that list has been delivered, rejects with its error (then keeps retrying in the background unless stopped). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      let first = true;
      const settle = (err?: unknown) => {
        if (!first) return;
        first = false;
        if (err) reject(err);
        else resolve();
      };
      void this.#relist(settle);
    });
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#watchdog);
    this.#abort?.abort();
    this.#abort = undefined;
  }

  get synced(): boolean {
    return this.#synced;
  }
  get items(): ReadonlyMap<string, T> {
    return this.#items;
  }
  /** How many lists and watches were started (for tests and logs). */
  get counts(): { relists: number; watches: number } {
    return { relists: this.#relists, watches: this.#watches };
  }

  #key(o: T): string {
    return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  }

  #retryDelay(): number {
    const b = this.#o.backoff ?? DEFAULT_BACKOFF;
    const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(this.#failures, 20));
    this.#failures++;
    return base / 2 + Math.random() * (base / 2);
  }

  #later(ms: number, fn: () => void): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(fn, ms);
  }

  async #relist(settle?: (err?: unknown) => void): Promise<void> {
    if (this.#stopped) return;
    this.#relists++;
    let result: ListResult<T>;
    try {
      result = await this.#o.list();
    } catch (err) {
      if (this.#stopped) return;
      const delay = this.#retryDelay();
      this.#o.log.warn(`listing ${this.#o.what} failed (${describeError(err)}); retrying in ${Math.round(delay)} ms`);
      settle?.(err);
      this.#later(delay, () => void this.#relist());
      return;
    }
    if (this.#stopped) return;
    this.#items.clear();
    for (const item of result.items) this.#items.set(this.#key(item), item);
    this.#resourceVersion = result.resourceVersion;
    this.#synced = true;
    this.#failures = 0;
    this.#o.onSync(this.#items);
    settle?.();
    void this.#watch();
  }

  async #watch(): Promise<void> {
    if (this.#stopped) return;
    this.#watches++;
    let relist = false;
    let sawEvent = false;
    let finished = false;
    const started = Date.now();
    const timeoutSeconds = this.#o.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    const done = (err: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(this.#watchdog);
      if (this.#stopped) return;
      if (relist || statusOf(err) === 410) {
        this.#o.log.info(`watch of ${this.#o.what} expired (410 Gone); listing again`);
        void this.#relist();
      } else if (err) {
        const delay = this.#retryDelay();
        this.#o.log.warn(`watch of ${this.#o.what} failed (${describeError(err)}); restarting in ${Math.round(delay)} ms`);
        this.#later(delay, () => void this.#watch());
      } else if (!sawEvent && Date.now() - started < 1000) {
        // Closed at once with nothing said: do not spin against a server that keeps hanging up.
        this.#later(this.#retryDelay(), () => void this.#watch());
      } else {
        void this.#watch();
      }
    };
    const onEvent = (type: string, obj: unknown) => {
      if (this.#stopped || finished) return;
      sawEvent = true;
      if (type === 'ERROR') {
        const status = obj as { code?: number; message?: string } | undefined;
        if (status?.code === 410) relist = true;
        else this.#o.log.warn(`watch of ${this.#o.what} reported an error: ${status?.message ?? JSON.stringify(obj)}`);
        return;
      }
      const o = obj as T;
      const rv = o?.metadata?.resourceVersion;
      if (rv) this.#resourceVersion = rv;
      if (type === 'BOOKMARK') return;
      this.#failures = 0;
      const key = this.#key(o);
      if (type === 'DELETED') this.#items.delete(key);
      else if (type === 'ADDED' || type === 'MODIFIED') this.#items.set(key, o);
      else return;
      this.#o.onSync(this.#items);
    };
    try {
      const abort = await this.#o.watch.watch(
        this.#o.path,
        { ...this.#o.query, resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        onEvent,
        done,
      );
      if (this.#stopped) abort.abort();
      else if (!finished) {
        this.#abort = abort;
        // A connection that went silent (no close, no bookmark) is dropped after the server's own deadline.
        this.#watchdog = setTimeout(() => abort.abort(), (timeoutSeconds + 30) * 1000);
        this.#watchdog.unref();
      }
    } catch (err) {
      done(err);
    }
  }
}
