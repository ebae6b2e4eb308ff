/**
 * decision-tree-filter (GIE v0.5): runs `current`; on success (a non-empty result) the next filter
 * (`nextOnSuccess`, else `nextOnSuccessOrFailure`) gets the filtered endpoints; on failure the next one
 * (`nextOnFailure`, else `nextOnSuccessOrFailure`) gets the original endpoints. Without a next filter the
 * current result stands. Each entry is `{pluginRef: <filter>}` or a nested `{decisionTree: {...}}`.
 */
import type { CycleState } from '../../framework/cycle-state.js';
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginHandle, PluginRegistration, ReferencingPlugin } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import { isFilter, type Filter } from '../../framework/scheduling.js';
import { ConfigError } from '../../errors.js';
import { paramsOf, type Params } from '../shared/params.js';
import { knownParameters } from '../shared/schema-params.js';

export const DECISION_TREE_FILTER = 'decision-tree-filter';

/** A tree node as configured: filters are named, resolved once all plugins exist. */
interface NodeSpec {
  readonly current: EntrySpec;
  readonly nextOnSuccess?: EntrySpec | undefined;
  readonly nextOnFailure?: EntrySpec | undefined;
  readonly nextOnSuccessOrFailure?: EntrySpec | undefined;
}
type EntrySpec = { readonly ref: string; readonly path: string } | { readonly tree: NodeSpec };

interface Node {
  readonly current: Filter;
  readonly onSuccess: Filter | undefined;
  readonly onFailure: Filter | undefined;
}

const BRANCHES = ['current', 'nextOnSuccess', 'nextOnFailure', 'nextOnSuccessOrFailure'] as const;

function parseEntry(raw: unknown, path: string): EntrySpec {
  const e = paramsOf(raw);
  const ref = e['pluginRef'];
  const tree = e['decisionTree'];
  if (ref !== undefined && tree !== undefined) throw new ConfigError(path, 'both pluginRef and decisionTree may not be specified');
  if (typeof ref === 'string' && ref !== '') return { ref, path: `${path}.pluginRef` };
  if (tree !== undefined && tree !== null) return { tree: parseNode(paramsOf(tree), `${path}.decisionTree`) };
  throw new ConfigError(path, 'either pluginRef or decisionTree must be specified');
}

function parseNode(p: Params, path: string): NodeSpec {
  if (p['current'] === undefined || p['current'] === null) throw new ConfigError(`${path}.current`, 'a current filter must be specified');
  const at = (k: (typeof BRANCHES)[number]) => (p[k] === undefined || p[k] === null ? undefined : parseEntry(p[k], `${path}.${k}`));
  return { current: at('current')!, nextOnSuccess: at('nextOnSuccess'), nextOnFailure: at('nextOnFailure'), nextOnSuccessOrFailure: at('nextOnSuccessOrFailure') };
}

/** A resolved subtree, itself a filter. */
class TreeNode implements Filter {
  constructor(
    readonly type: string,
    readonly name: string,
    private readonly node: Node,
  ) {}

  filter(cs: CycleState, request: InferenceRequest, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const { current, onSuccess, onFailure } = this.node;
    const kept = current.filter(cs, request, endpoints);
    if (kept.length > 0) return onSuccess ? onSuccess.filter(cs, request, kept) : kept;
    return onFailure ? onFailure.filter(cs, request, endpoints) : kept;
  }
}

export class DecisionTreeFilter implements Filter, ReferencingPlugin {
  readonly type = DECISION_TREE_FILTER;
  #root: TreeNode | undefined;

  constructor(
    readonly name: string,
    private readonly spec: NodeSpec,
    private readonly handle: Pick<PluginHandle, 'plugin'>,
  ) {}

  resolveReferences(): void {
    this.#root = this.#resolve(this.spec, new Set([this.name]));
  }

  #entry(e: EntrySpec, seen: ReadonlySet<string>): Filter {
    if ('tree' in e) return this.#resolve(e.tree, seen);
    if (seen.has(e.ref)) throw new ConfigError(e.path, `"${e.ref}" refers back to the tree that contains it`);
    const plugin = this.handle.plugin(e.ref);
    if (!plugin) throw new ConfigError(e.path, `no plugin named "${e.ref}"`);
    if (!isFilter(plugin)) throw new ConfigError(e.path, `plugin "${e.ref}" (${plugin.type}) is not a filter`);
    return plugin;
  }

  #resolve(spec: NodeSpec, seen: ReadonlySet<string>): TreeNode {
    const either = spec.nextOnSuccessOrFailure ? this.#entry(spec.nextOnSuccessOrFailure, seen) : undefined;
    return new TreeNode(this.type, this.name, {
      current: this.#entry(spec.current, seen),
      onSuccess: spec.nextOnSuccess ? this.#entry(spec.nextOnSuccess, seen) : either,
      onFailure: spec.nextOnFailure ? this.#entry(spec.nextOnFailure, seen) : either,
    });
  }

  filter(cs: CycleState, request: InferenceRequest, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    if (!this.#root) this.resolveReferences();
    return this.#root!.filter(cs, request, endpoints);
  }
}

export const registration: PluginRegistration = {
  type: DECISION_TREE_FILTER,
  parameters: knownParameters(...BRANCHES),
  factory: (name, parameters, handle) => new DecisionTreeFilter(name, parseNode(paramsOf(parameters), 'parameters'), handle),
};
