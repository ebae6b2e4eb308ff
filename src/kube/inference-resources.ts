/**
 * InferenceObjective and InferenceModelRewrite from the cluster, applied as the `--resources-file` is:
 * each kind is listed and watched in the pool's namespace (group `llm-d.ai/v1alpha2`, else the older
 * `inference.networking.x-k8s.io/v1alpha2`, whichever the API server serves), only objects whose
 * `spec.poolRef` names this pool count, and `current` is rebuilt on every change. Rewrites take
 * precedence oldest first (creation time, then name), as the Go EPP orders them. An object that cannot
 * be read is skipped with a warning naming it.
 */
import type { KubeClient } from './client.js';
import { describeError, statusOf } from './client.js';
import { isPermanent, Reflector, type KubeObject, type ReflectorLog } from './reflector.js';
import { emptyResources, type Objective, type Resources, type RewriteRule } from '../resources/manifests.js';

export const RESOURCE_GROUPS = ['llm-d.ai', 'inference.networking.x-k8s.io'] as const;
const VERSION = 'v1alpha2';
/** What an unset `poolRef.group` means (the CRD's default). */
const DEFAULT_POOL_GROUP = 'inference.networking.k8s.io';

interface PoolRef {
  group?: string;
  name?: string;
}
interface ObjectiveObject extends KubeObject {
  spec?: { priority?: unknown; poolRef?: PoolRef };
}
interface RewriteObject extends KubeObject {
  spec?: { poolRef?: PoolRef; rules?: { matches?: { model?: { value?: unknown } }[]; targets?: { modelRewrite?: unknown; weight?: unknown }[] }[] };
}

export interface PoolIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly group: string;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function refersTo(ref: PoolRef | undefined, pool: PoolIdentity): boolean {
  return ref?.name === pool.name && (ref.group || DEFAULT_POOL_GROUP) === pool.group;
}

function objectiveOf(o: ObjectiveObject): Objective | string {
  const priority = o.spec?.priority;
  if (priority !== undefined && priority !== null && !isInt(priority)) return `spec.priority must be an integer, got ${JSON.stringify(priority)}`;
  return { name: o.metadata?.name ?? '', priority: (priority as number | undefined) ?? 0 };
}

function rulesOf(o: RewriteObject): RewriteRule[] | string {
  const name = o.metadata?.name ?? '';
  const rules = o.spec?.rules;
  if (!Array.isArray(rules) || rules.length === 0) return 'spec.rules must have at least one rule';
  const out: RewriteRule[] = [];
  for (const [i, r] of rules.entries()) {
    const models = (r.matches ?? []).map((m) => m.model?.value);
    if (models.length === 0 || models.some((m) => typeof m !== 'string' || m === '')) return `spec.rules[${i}].matches needs model values`;
    const targets = r.targets ?? [];
    if (targets.length === 0) return `spec.rules[${i}].targets must have at least one target`;
    for (const t of targets) {
      if (typeof t.modelRewrite !== 'string' || t.modelRewrite === '') return `spec.rules[${i}].targets needs modelRewrite names`;
      if (t.weight !== undefined && t.weight !== null && !(isInt(t.weight) && t.weight >= 0)) return `spec.rules[${i}].targets weight must be an integer >= 0`;
    }
    out.push({ name, models: models as string[], targets: targets.map((t) => ({ model: t.modelRewrite as string, weight: (t.weight as number | undefined) ?? 1 })) });
  }
  return out;
}

const created = (o: KubeObject) => {
  const t = o.metadata?.creationTimestamp;
  return t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : 0;
};

/** The Resources a set of cluster objects amounts to (pure; exported for tests). */
export function resourcesFromObjects(pool: PoolIdentity, objectives: Iterable<ObjectiveObject>, rewrites: Iterable<RewriteObject>, warn: (m: string) => void): Resources {
  const byName = new Map<string, Objective>();
  for (const o of objectives) {
    if (o.metadata?.deletionTimestamp || !refersTo(o.spec?.poolRef, pool)) continue;
    const objective = objectiveOf(o);
    if (typeof objective === 'string') warn(`InferenceObjective ${pool.namespace}/${o.metadata?.name} skipped: ${objective}`);
    else byName.set(objective.name, objective);
  }
  const ordered = [...rewrites]
    .filter((o) => !o.metadata?.deletionTimestamp && refersTo(o.spec?.poolRef, pool))
    .sort((a, b) => created(a) - created(b) || ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  const rules: RewriteRule[] = [];
  for (const o of ordered) {
    const r = rulesOf(o);
    if (typeof r === 'string') warn(`InferenceModelRewrite ${pool.namespace}/${o.metadata?.name} skipped: ${r}`);
    else rules.push(...r);
  }
  return { objectives: byName, rewrites: rules };
}

export interface InferenceResourcesOptions {
  readonly client: KubeClient;
  readonly pool: PoolIdentity;
  readonly log: ReflectorLog;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

export class InferenceResources {
  #current: Resources = emptyResources;
  readonly #o: InferenceResourcesOptions;
  readonly #reflectors: { kind: string; reflector: Reflector<KubeObject> }[] = [];
  #objectives: ReadonlyMap<string, KubeObject> = new Map();
  #rewrites: ReadonlyMap<string, KubeObject> = new Map();
  /** Called after each change of `current`. */
  onChange?: (r: Resources) => void;

  private constructor(options: InferenceResourcesOptions) {
    this.#o = options;
  }

  /** Starts both watches; a kind the API server does not serve (in either group) is skipped with a warning. */
  static async start(options: InferenceResourcesOptions): Promise<InferenceResources> {
    const r = new InferenceResources(options);
    await Promise.all([r.#watchKind('InferenceObjective', 'inferenceobjectives'), r.#watchKind('InferenceModelRewrite', 'inferencemodelrewrites')]);
    return r;
  }

  get current(): Resources {
    return this.#current;
  }

  async close(): Promise<void> {
    for (const { reflector } of this.#reflectors) reflector.stop();
  }

  async #watchKind(kind: string, plural: string): Promise<void> {
    const { client, pool, log } = this.#o;
    for (const group of RESOURCE_GROUPS) {
      const reflector = new Reflector<KubeObject>({
        what: `${kind}s (${group}/${VERSION}) in ${pool.namespace}`,
        list: async () => {
          const list = (await client.custom.listNamespacedCustomObject({ group, version: VERSION, namespace: pool.namespace, plural })) as { items?: KubeObject[]; metadata?: { resourceVersion?: string } };
          return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
        },
        watch: client.watch,
        path: `/apis/${group}/${VERSION}/namespaces/${encodeURIComponent(pool.namespace)}/${plural}`,
        onSync: (items) => {
          if (plural === 'inferenceobjectives') this.#objectives = items;
          else this.#rewrites = items;
          this.#rebuild();
        },
        log,
        ...(this.#o.backoff ? { backoff: this.#o.backoff } : {}),
      });
      try {
        await reflector.start();
      } catch (err) {
        if (statusOf(err) === 404) {
          reflector.stop();
          continue; // not served in this group: try the next
        }
        if (isPermanent(statusOf(err))) {
          reflector.stop();
          log.warn(`cannot list ${kind}s in ${pool.namespace} (${describeError(err)}); objectives and rewrites from the cluster are off`);
          return;
        }
        // Transient: the reflector keeps retrying in the background.
      }
      this.#reflectors.push({ kind, reflector });
      return;
    }
    log.warn(`the API server serves no ${kind} (${RESOURCE_GROUPS.map((g) => `${g}/${VERSION}`).join(' or ')}); skipping it`);
  }

  #rebuild(): void {
    this.#current = resourcesFromObjects(this.#o.pool, this.#objectives.values(), this.#rewrites.values(), (m) => this.#o.log.warn(m));
    try {
      this.onChange?.(this.#current);
    } catch (err) {
      this.#o.log.warn(`a resources change listener failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
