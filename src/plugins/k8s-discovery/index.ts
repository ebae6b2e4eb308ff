import type { PluginRegistration } from '../../framework/plugin.js';
import type { EndpointMetadata } from '../../framework/endpoint.js';
import { endpointKey, type DiscoverySink, type EndpointDiscovery } from '../../framework/discovery.js';
import { ConfigError } from '../../errors.js';
import { loadKubeClient, describeError, statusOf, type KubeClient } from '../../kube/client.js';
import { isPermanent, Reflector, type ReflectorLog } from '../../kube/reflector.js';
import { formatLabelSelector, parseLabelSelector } from '../../kube/label-selector.js';
import { z } from 'zod';
import { paramsOf, type Params } from '../shared/params.js';
import { endpointsOf, poolSpecOf, poolVersion, POOL_GROUP_V1, POOL_GROUP_V1ALPHA2, type PodObject, type PoolObject, type PoolSpec } from './pool.js';

export const K8S_DISCOVERY = 'k8s-discovery';
/** Set by the composition root when the parameters come from flags, so errors name the flags. */
export const FROM_FLAGS = '__fromFlags';

export type K8sDiscoveryTarget =
  | { readonly mode: 'pool'; readonly namespace: string; readonly poolName: string; readonly poolGroup: string }
  | { readonly mode: 'standalone'; readonly namespace: string; readonly spec: PoolSpec };

export interface K8sDiscoveryOptions {
  readonly target: K8sDiscoveryTarget;
  readonly kubeconfig: string;
  readonly log: ReflectorLog;
  /** Watch timeout handed to the API server (tests shorten it). */
  readonly watchTimeoutSeconds?: number;
  /** Retry backoff of lists and watches (tests shorten it). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

const sameSpec = (a: PoolSpec | undefined, b: PoolSpec | undefined) =>
  a !== undefined && b !== undefined && formatLabelSelector(a.selector) === formatLabelSelector(b.selector) && a.targetPorts.join(',') === b.targetPorts.join(',');

/** Why a first list failed, in words a cluster operator can act on. */
function startupError(what: string, err: unknown, hint: string): ConfigError {
  const status = statusOf(err);
  const why = status === 404 ? `not found (${hint})` : status === 403 ? 'forbidden: the EPP\'s service account needs get, list and watch on it (see deploy/README.md)' : describeError(err);
  return new ConfigError(`plugin "${K8S_DISCOVERY}"`, `cannot list ${what}: ${why}`);
}

/**
 * Endpoints from Kubernetes: the pods selected by an InferencePool (or, standalone, by a label selector)
 * that are Running, Ready and not terminating, one endpoint per target port. The pool and the pods are
 * each kept by a list + watch (see kube/reflector.ts); a pool whose selector changes restarts the pod watch.
 */
export class K8sDiscovery implements EndpointDiscovery {
  readonly type = K8S_DISCOVERY;
  readonly #o: K8sDiscoveryOptions;
  #client: KubeClient | undefined;
  #sink: DiscoverySink | undefined;
  #pool: Reflector<PoolObject> | undefined;
  #pods: Reflector<PodObject> | undefined;
  #spec: PoolSpec | undefined;
  #current = new Set<string>();
  #stopped = false;

  constructor(
    readonly name: string,
    options: K8sDiscoveryOptions,
  ) {
    this.#o = options;
  }

  get target(): K8sDiscoveryTarget {
    return this.#o.target;
  }
  /** The API client discovery opened at start; the EPP's other Kubernetes parts (resources, lease, metrics auth) share it. */
  get client(): KubeClient {
    if (!this.#client) throw new Error('internal: k8s-discovery client read before start()');
    return this.#client;
  }

  async start(sink: DiscoverySink): Promise<void> {
    this.#sink = sink;
    this.#client = await loadKubeClient(this.#o.kubeconfig);
    const t = this.#o.target;
    if (t.mode === 'standalone') {
      this.#spec = t.spec;
      await this.#startPods(true);
      return;
    }
    const version = poolVersion(t.poolGroup);
    const client = this.#client;
    this.#pool = new Reflector<PoolObject>({
      what: `InferencePool ${t.namespace}/${t.poolName} (${t.poolGroup}/${version})`,
      list: async () => {
        const list = (await client.custom.listNamespacedCustomObject({
          group: t.poolGroup,
          version,
          namespace: t.namespace,
          plural: 'inferencepools',
          fieldSelector: `metadata.name=${t.poolName}`,
        })) as { items?: PoolObject[]; metadata?: { resourceVersion?: string } };
        return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
      },
      watch: client.watch,
      path: `/apis/${t.poolGroup}/${version}/namespaces/${encodeURIComponent(t.namespace)}/inferencepools`,
      query: { fieldSelector: `metadata.name=${t.poolName}` },
      onSync: (items) => this.#poolChanged(items.get(`${t.namespace}/${t.poolName}`)),
      log: this.#o.log,
      ...(this.#o.watchTimeoutSeconds ? { watchTimeoutSeconds: this.#o.watchTimeoutSeconds } : {}),
      ...(this.#o.backoff ? { backoff: this.#o.backoff } : {}),
    });
    try {
      await this.#pool.start();
    } catch (err) {
      if (!isPermanent(statusOf(err))) return; // the API server is unreachable for now: retried, readiness waits
      this.#pool.stop();
      throw startupError(`InferencePools (${t.poolGroup}/${version}) in namespace ${t.namespace}`, err, `is the InferencePool CRD installed? --pool-group selects ${POOL_GROUP_V1} (v1) or ${POOL_GROUP_V1ALPHA2} (v1alpha2)`);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pool?.stop();
    this.#pods?.stop();
  }

  #poolChanged(pool: PoolObject | undefined): void {
    if (this.#stopped) return;
    const t = this.#o.target as Extract<K8sDiscoveryTarget, { mode: 'pool' }>;
    if (!pool) {
      if (this.#spec) this.#o.log.warn(`InferencePool ${t.namespace}/${t.poolName} is gone; the pool is empty until it comes back`);
      this.#spec = undefined;
      this.#pods?.stop();
      this.#pods = undefined;
      this.#apply([]);
      return;
    }
    const spec = poolSpecOf(pool);
    if (typeof spec === 'string') {
      this.#o.log.warn(`InferencePool ${t.namespace}/${t.poolName} cannot be used: ${spec}; keeping the last good endpoints`);
      return;
    }
    if (sameSpec(this.#spec, spec)) return;
    const selectorChanged = !this.#spec || formatLabelSelector(this.#spec.selector) !== formatLabelSelector(spec.selector);
    this.#spec = spec;
    if (selectorChanged || !this.#pods) {
      void this.#startPods(false);
    } else {
      this.#recompute(this.#pods.items);
    }
  }

  async #startPods(awaitFirst: boolean): Promise<void> {
    this.#pods?.stop();
    const client = this.#client!;
    const namespace = this.#o.target.namespace;
    const labelSelector = formatLabelSelector(this.#spec!.selector);
    const pods: Reflector<PodObject> = new Reflector<PodObject>({
      what: `pods in ${namespace} matching ${labelSelector || 'everything'}`,
      list: async () => {
        const list = await client.core.listNamespacedPod({ namespace, ...(labelSelector ? { labelSelector } : {}) });
        return { items: list.items as PodObject[], resourceVersion: list.metadata?.resourceVersion ?? '' };
      },
      watch: client.watch,
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      query: labelSelector ? { labelSelector } : {},
      onSync: (items) => {
        if (this.#pods !== pods || this.#stopped) return;
        this.#recompute(items);
        this.#sink!.ready();
      },
      log: this.#o.log,
      ...(this.#o.watchTimeoutSeconds ? { watchTimeoutSeconds: this.#o.watchTimeoutSeconds } : {}),
      ...(this.#o.backoff ? { backoff: this.#o.backoff } : {}),
    });
    this.#pods = pods;
    try {
      await pods.start();
    } catch (err) {
      if (!awaitFirst || !isPermanent(statusOf(err))) return;
      pods.stop();
      throw startupError(`pods in namespace ${namespace}`, err, 'the namespace does not exist');
    }
  }

  #recompute(pods: ReadonlyMap<string, PodObject>): void {
    const spec = this.#spec;
    if (!spec) return;
    const endpoints: EndpointMetadata[] = [];
    for (const pod of pods.values()) endpoints.push(...endpointsOf(pod, spec.targetPorts));
    this.#apply(endpoints);
  }

  #apply(endpoints: readonly EndpointMetadata[]): void {
    const sink = this.#sink!;
    const next = new Set(endpoints.map(endpointKey));
    for (const e of endpoints) sink.upsert(e);
    for (const key of this.#current) if (!next.has(key)) sink.delete(key);
    this.#current = next;
  }
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Reads the target from parameters named as the Go EPP's flags (poolName, poolNamespace, poolGroup,
 * endpointSelector, endpointTargetPorts): exactly one of poolName and endpointSelector. With `fromFlags`
 * errors name the flags (`--pool-group`) instead of the parameters.
 */
export function targetFrom(p: Params, fromFlags = false): K8sDiscoveryTarget {
  const at = (key: string) => (fromFlags ? `--${kebab(key)}` : `parameters.${key}`);
  const str = (key: string, fallback: string): string => {
    const v = p[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') throw new ConfigError(at(key), `must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const poolName = str('poolName', '');
  const selectorText = str('endpointSelector', '');
  const namespace = str('poolNamespace', '') || process.env['NAMESPACE'] || 'default';
  if ((poolName === '') === (selectorText === '')) {
    throw new ConfigError(fromFlags ? '' : 'parameters', `exactly one of ${at('poolName')} and ${at('endpointSelector')} must be set`);
  }
  if (poolName) {
    const poolGroup = str('poolGroup', POOL_GROUP_V1);
    if (poolGroup !== POOL_GROUP_V1 && poolGroup !== POOL_GROUP_V1ALPHA2) {
      throw new ConfigError(at('poolGroup'), `must be ${POOL_GROUP_V1} (v1) or ${POOL_GROUP_V1ALPHA2} (v1alpha2), got "${poolGroup}"`);
    }
    return { mode: 'pool', namespace, poolName, poolGroup };
  }
  const selector = parseLabelSelector(selectorText, at('endpointSelector'));
  const v = p['endpointTargetPorts'];
  const ports = typeof v === 'string' ? v.split(',').filter((s) => s !== '').map((s) => Number(s.trim())) : Array.isArray(v) ? v : v === undefined ? [] : undefined;
  if (!ports || ports.some((n) => typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535)) {
    throw new ConfigError(at('endpointTargetPorts'), `must be a list of ports (1..65535), got ${JSON.stringify(v)}`);
  }
  const targetPorts = [...new Set(ports as number[])];
  if (targetPorts.length < 1 || targetPorts.length > 8) {
    throw new ConfigError(at('endpointTargetPorts'), `standalone mode (${at('endpointSelector')}) needs 1 to 8 target ports`);
  }
  return { mode: 'standalone', namespace, spec: { selector, targetPorts } };
}

/** The parameters this plugin knows (their values are checked by targetFrom and the factory). */
export const parametersSchema = z.object(Object.fromEntries(['poolName', 'poolNamespace', 'poolGroup', 'endpointSelector', 'endpointTargetPorts', 'kubeconfig'].map((k) => [k, z.unknown()])));

export const registration: PluginRegistration = {
  type: K8S_DISCOVERY,
  parameters: parametersSchema,
  factory: (name, parameters, handle) => {
    const p = paramsOf(parameters);
    const log = { warn: (m: string) => handle.warn(m), info: () => {} };
    const kubeconfig = p['kubeconfig'];
    if (kubeconfig !== undefined && typeof kubeconfig !== 'string') throw new ConfigError('parameters.kubeconfig', `must be a string, got ${JSON.stringify(kubeconfig)}`);
    return new K8sDiscovery(name, { target: targetFrom(p, p[FROM_FLAGS] === true), kubeconfig: kubeconfig ?? '', log });
  },
};
