/**
 * The joint placement of one window's requests (llm-d's burst assignment, same rules): requests with the
 * same prompt prefix form a group; groups of two or more are placement units, and so is a single request
 * sharing its first `minColocateBlocks` blocks with another request of the window (when that is > 0).
 * Longer prefixes are placed first. A unit fills one replica up to `maxPerReplica` before spilling to the
 * next; its first replica is, when co-location is on, the one already holding the most of its leading
 * blocks from this window (at least `minColocateBlocks`, and not yet at its fair share of the window),
 * otherwise the least loaded (load in requests, or in prefix blocks with `byTokens`; then running
 * requests; then name).
 */
import type { Endpoint } from '../../framework/endpoint.js';

export interface BurstEntry {
  /** The request's prefix block hashes, in order. */
  readonly hashes: Float64Array;
  readonly candidates: readonly Endpoint[];
  /** Set by `assignBurst` for requests that belong to a placement unit. */
  assigned?: Endpoint;
}

export interface AssignOptions {
  /** Requests of one unit per replica; -1 = unlimited. */
  readonly maxPerReplica: number;
  readonly minColocateBlocks: number;
  /** Balance prefix blocks (each unit's prefix charged once per replica, less what the replica holds) rather than requests. */
  readonly byTokens: boolean;
}

const UNLIMITED = -1;

/** The first `n` hashes as a string key (8 bytes each): equal keys, equal prefixes. */
function prefixKey(hashes: Float64Array, n = hashes.length): string {
  return Buffer.from(hashes.buffer, hashes.byteOffset, Math.min(n, hashes.length) * 8).toString('latin1');
}

/** Which replicas of the window hold each block already. */
class WindowIndex {
  readonly #holders = new Map<number, Set<string>>();

  add(hashes: Float64Array, replica: string): void {
    for (const h of hashes) {
      let s = this.#holders.get(h);
      if (!s) this.#holders.set(h, (s = new Set()));
      s.add(replica);
    }
  }

  /** Per replica, how many of the leading blocks (up to the first block nobody holds) it holds. */
  leading(hashes: Float64Array): Map<string, number> {
    const out = new Map<string, number>();
    for (const h of hashes) {
      const holders = this.#holders.get(h);
      if (!holders || holders.size === 0) break;
      for (const r of holders) out.set(r, (out.get(r) ?? 0) + 1);
    }
    return out;
  }
}

interface Placement {
  readonly replicas: readonly Endpoint[];
  readonly options: AssignOptions;
  readonly maxShare: number;
  readonly index: WindowIndex;
  /** Per replica key, the load placed on it in this window. */
  readonly load: Map<string, number>;
}

export function assignBurst(entries: readonly BurstEntry[], options: AssignOptions): void {
  const groups = new Map<string, BurstEntry[]>();
  let replicas: readonly Endpoint[] | undefined;
  for (const e of entries) {
    if (e.hashes.length === 0) continue; // no prefix: no affinity
    const key = prefixKey(e.hashes);
    const group = groups.get(key);
    if (group) group.push(e);
    else groups.set(key, [e]);
    replicas ??= e.candidates;
  }
  if (!replicas || replicas.length === 0) return;

  const shared = sharedSingles(groups, options.minColocateBlocks);
  const byLongest = (a: BurstEntry[], b: BurstEntry[]) => b[0]!.hashes.length - a[0]!.hashes.length; // sort is stable
  const units = [...groups.values()].filter((g) => g.length >= 2).sort(byLongest);
  const singles = [...groups.entries()].filter(([key, g]) => g.length === 1 && shared.has(key)).map(([, g]) => g).sort(byLongest);
  if (units.length + singles.length === 0) return;

  let total = 0;
  for (const g of [...units, ...singles]) total += options.byTokens ? g[0]!.hashes.length : g.length;
  const placement: Placement = { replicas, options, maxShare: Math.ceil(total / replicas.length), index: new WindowIndex(), load: new Map() };
  for (const g of units) place(g, placement);
  for (const g of singles) place(g, placement);
}

/** Keys of single requests whose first `min` blocks some other request of the window shares. */
function sharedSingles(groups: ReadonlyMap<string, BurstEntry[]>, min: number): Set<string> {
  const shared = new Set<string>();
  if (min <= 0) return shared;
  const count = new Map<string, number>();
  const signature = new Map<string, string>();
  for (const [key, g] of groups) {
    if (g[0]!.hashes.length < min) continue;
    const sig = prefixKey(g[0]!.hashes, min);
    signature.set(key, sig);
    count.set(sig, (count.get(sig) ?? 0) + g.length);
  }
  for (const [key, sig] of signature) if (count.get(sig)! >= 2 && groups.get(key)!.length === 1) shared.add(key);
  return shared;
}

function place(members: readonly BurstEntry[], p: Placement): void {
  const { options, load } = p;
  const hashes = members[0]!.hashes;
  const cost = hashes.length;
  let preferHolder = options.minColocateBlocks > 0;
  const held = preferHolder || options.byTokens ? p.index.leading(hashes) : new Map<string, number>();
  const onReplica = new Map<string, number>();
  for (let i = 0; i < members.length; ) {
    const target = (preferHolder ? bestHolder(p, held, onReplica) : undefined) ?? leastLoaded(p, onReplica);
    const key = target.key;
    let run = members.length - i;
    if (options.maxPerReplica !== UNLIMITED) run = Math.min(run, Math.max(1, options.maxPerReplica - (onReplica.get(key) ?? 0)));
    for (let j = 0; j < run; j++) members[i + j]!.assigned = target;
    const first = !onReplica.has(key);
    onReplica.set(key, (onReplica.get(key) ?? 0) + run);
    if (!options.byTokens) load.set(key, (load.get(key) ?? 0) + run);
    else if (first) load.set(key, (load.get(key) ?? 0) + Math.max(0, cost - (held.get(key) ?? 0)));
    i += run;
    preferHolder = false; // only the unit's first replica follows the prefix
  }
  for (const m of members) if (m.assigned) p.index.add(hashes, m.assigned.key);
}

const full = (p: Placement, onReplica: ReadonlyMap<string, number>, key: string) =>
  p.options.maxPerReplica !== UNLIMITED && (onReplica.get(key) ?? 0) >= p.options.maxPerReplica;

/** Lighter first: load placed in this window, then running requests, then name. */
function lighter(p: Placement, a: Endpoint, b: Endpoint): boolean {
  const la = p.load.get(a.key) ?? 0;
  const lb = p.load.get(b.key) ?? 0;
  if (la !== lb) return la < lb;
  const ra = a.metrics.runningRequestsSize;
  const rb = b.metrics.runningRequestsSize;
  if (ra !== rb) return ra < rb;
  return a.key < b.key;
}

/** The replica holding most of the unit's leading blocks (≥ minColocateBlocks), under its fair share and cap. */
function bestHolder(p: Placement, held: ReadonlyMap<string, number>, onReplica: ReadonlyMap<string, number>): Endpoint | undefined {
  let best: Endpoint | undefined;
  let bestHeld = 0;
  for (const r of p.replicas) {
    if (full(p, onReplica, r.key) || (p.load.get(r.key) ?? 0) >= p.maxShare) continue;
    const h = held.get(r.key) ?? 0;
    if (h < p.options.minColocateBlocks) continue;
    if (!best || h > bestHeld || (h === bestHeld && lighter(p, r, best))) [best, bestHeld] = [r, h];
  }
  return best;
}

/** The least loaded replica under the unit's cap; when all are at it (more members than cap × replicas), any. */
function leastLoaded(p: Placement, onReplica: ReadonlyMap<string, number>): Endpoint {
  let best: Endpoint | undefined;
  for (const r of p.replicas) if (!full(p, onReplica, r.key) && (!best || lighter(p, r, best))) best = r;
  if (best) return best;
  for (const r of p.replicas) if (!best || lighter(p, r, best)) best = r;
  return best!;
}
