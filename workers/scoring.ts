/**
 * The worker side of pooled scoring: rebuilds the epoch's endpoints (once per epoch), builds each pooled
 * scorer once per thread from the same registration and parameters as the main thread, and runs the job's
 * scorers on its candidates. Each scorer reads the cycle state as it stood when scoring began; its writes
 * are returned as its delta.
 */
import type { CycleState } from '../src/framework/cycle-state.js';
import type { Endpoint } from '../src/framework/endpoint.js';
import type { PluginHandle, PluginRegistration } from '../src/framework/plugin.js';
import type { InferenceRequest } from '../src/framework/request.js';
import { isScorer, type Scorer } from '../src/framework/scheduling.js';
import { Registry } from '../src/framework/registry.js';
import { registerInTreePlugins } from '../src/plugins/index.js';
import { SnapshotReplica, type PackedEpoch } from '../src/pool/snapshot-columns.js';
import { WorkerPool } from '../src/pool/worker-pool.js';
import { systemRandom } from '../src/scheduling/random.js';

/** A plugin as the config built it; `module` exports `registration` for out-of-tree types. */
export interface PluginSpec {
  readonly type: string;
  readonly name: string;
  readonly parameters: unknown;
  readonly module?: string;
}

export interface ScoreJob {
  readonly epoch: PackedEpoch;
  /** Indices into the epoch's endpoints. */
  readonly candidates: Int32Array;
  readonly request: InferenceRequest;
  /** Cycle-state entries the job's scorers consume, as they stood when scoring began. */
  readonly state: readonly (readonly [string, unknown])[];
  readonly scorers: readonly string[];
}

export interface ScoreReply {
  readonly scores: Float64Array[];
  readonly deltas: [string, unknown][][];
  readonly computeUs: number[];
}

const replica = new SnapshotReplica();
const scorers = new Map<string, Promise<Scorer>>();
let registry: Promise<Registry> | undefined;

async function registryFor(specs: readonly PluginSpec[]): Promise<Registry> {
  const r = registerInTreePlugins(new Registry());
  for (const spec of specs) {
    if (!spec.module || r.get(spec.type)) continue;
    const { registration } = (await import(spec.module)) as { registration: PluginRegistration };
    r.register(registration);
  }
  return r;
}

function scorerNamed(name: string, specs: readonly PluginSpec[]): Promise<Scorer> {
  let built = scorers.get(name);
  if (!built) {
    built = (async () => {
      registry ??= registryFor(specs);
      const r = await registry;
      const spec = specs.find((s) => s.name === name);
      if (!spec) throw new Error(`no pooled plugin named "${name}" on this worker`);
      const registration = r.get(spec.type);
      if (!registration) throw new Error(`plugin type "${spec.type}" is not registered on this worker`);
      const handle: PluginHandle = {
        warn: () => {},
        plugin: () => undefined,
        services: { random: systemRandom, now: Date.now, workerTasks: new WorkerPool() },
      };
      const plugin = registration.factory(spec.name, spec.parameters, handle);
      if (!isScorer(plugin)) throw new Error(`plugin "${name}" (${spec.type}) is not a scorer`);
      return plugin;
    })();
    scorers.set(name, built);
  }
  return built;
}

/** Reads come from the shipped entries; writes go to this scorer's delta (and are visible to its own reads). */
class DeltaCycleState implements CycleState {
  readonly delta: [string, unknown][] = [];
  readonly #own = new Map<string, unknown>();
  constructor(readonly base: ReadonlyMap<string, unknown>) {}
  read<T>(key: string): T | undefined {
    return (this.#own.has(key) ? this.#own.get(key) : this.base.get(key)) as T | undefined;
  }
  has(key: string): boolean {
    return this.#own.has(key) || this.base.has(key);
  }
  write(key: string, value: unknown): void {
    this.#own.set(key, value);
    this.delta.push([key, value]);
  }
}

export async function scoreJob(job: ScoreJob, specs: readonly PluginSpec[]): Promise<ScoreReply> {
  const all = replica.endpoints(job.epoch);
  const candidates: Endpoint[] = new Array(job.candidates.length);
  for (let i = 0; i < candidates.length; i++) candidates[i] = all[job.candidates[i]!]!;
  const base = new Map(job.state);
  const reply: ScoreReply = { scores: [], deltas: [], computeUs: [] };
  for (const name of job.scorers) {
    const scorer = await scorerNamed(name, specs);
    const state = new DeltaCycleState(base);
    const t = performance.now();
    const scores = scorer.score(state, job.request, candidates);
    reply.computeUs.push((performance.now() - t) * 1000);
    reply.scores.push(scores instanceof Float64Array ? scores : Float64Array.from(scores));
    reply.deltas.push(state.delta);
  }
  return reply;
}
