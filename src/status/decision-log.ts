/**
 * The last scheduling decisions, with every profile's per-scorer scores, for the status page. It records
 * only while the page (or /status.json) has been read within `watchMs`, so an EPP nobody looks at pays one
 * property read per scorer call; a watched one records a cycle only when the last recorded one began at
 * least `minGapMs` before (every cycle at a few requests a second, a sample of a busy EPP: recording all
 * of 2,000 a second cost 3.5 % of the CPU at 4 KB prompts, bench/cpu-profile), and keeps at most
 * `capacity` decisions. Prompts never enter.
 */
import type { CycleState } from '../framework/cycle-state.js';
import type { Endpoint } from '../framework/endpoint.js';
import type { InferenceRequest } from '../framework/request.js';
import type { ProfileRunResult, SchedulingResult } from '../framework/scheduling.js';
import type { ScoreTrace } from '../scheduling/score-trace.js';
import { PREFIX_CACHE_MATCH_KEY, type PrefixMatchInfo } from '../plugins/approx-prefix-cache-producer/index.js';

export interface ScorerColumn {
  readonly scorer: string;
  readonly weight: number;
  /** Raw score (0..1) per candidate, in `candidates` order. */
  readonly scores: readonly number[];
}

export interface ProfileDecision {
  readonly profile: string;
  /** Endpoint names left after the filters. */
  readonly candidates: readonly string[];
  readonly scorers: readonly ScorerColumn[];
  /** Weighted sum per candidate. */
  readonly totals: readonly number[];
  /** Endpoint names the picker chose, best first; empty when the profile failed. */
  readonly picked: readonly string[];
  readonly failure?: string;
}

export interface Decision {
  readonly seq: number;
  /** Wall-clock ms. */
  readonly at: number;
  readonly requestId: string;
  readonly model: string;
  readonly targetModel: string;
  readonly priority: number;
  readonly promptTokens: number;
  readonly primaryProfile: string;
  /** `address:port` of the primary pick, if any, and its name. */
  readonly destination: string | undefined;
  readonly destinationName: string | undefined;
  readonly profiles: readonly ProfileDecision[];
  /** The primary pick's prefix-cache match, when an approximate prefix producer ran. */
  readonly prefix?: { readonly matchedBlocks: number; readonly totalBlocks: number };
}

interface Pending {
  readonly profiles: Map<string, { candidates: string[]; scorers: ScorerColumn[]; totals: number[]; picked: string[]; failure?: string }>;
}

const nameOf = (e: Endpoint) => e.metadata.name;
const round = (x: number) => Math.round(x * 1e4) / 1e4;

export class DecisionLog implements ScoreTrace {
  readonly capacity: number;
  readonly #watchMs: number;
  readonly #minGapMs: number;
  #lastBegin = -Infinity;
  readonly #now: () => number;
  readonly #ring: Decision[] = [];
  readonly #pending = new WeakMap<CycleState, Pending>();
  #seq = 0;
  /** A plain field, so the hot path reads a boolean; a timer (refreshed on each watch) turns it off. */
  active = false;
  #off: NodeJS.Timeout | undefined;

  /** `watchedAtStart`: record the first `watchMs` after start too (the quick start's warm-up requests show). */
  constructor(options: { capacity?: number; watchMs?: number; minGapMs?: number; now?: () => number; watchedAtStart?: boolean } = {}) {
    this.capacity = options.capacity ?? 50;
    this.#watchMs = options.watchMs ?? 60_000;
    this.#minGapMs = options.minGapMs ?? 20;
    this.#now = options.now ?? Date.now;
    if (options.watchedAtStart) this.watched();
  }

  /** Someone is looking: record decisions for the next `watchMs`. */
  watched(): void {
    this.active = true;
    if (this.#off) this.#off.refresh();
    else {
      this.#off = setTimeout(() => ((this.active = false), (this.#off = undefined)), this.#watchMs);
      this.#off.unref();
    }
  }

  /** Stops recording now (shutdown, tests). */
  close(): void {
    clearTimeout(this.#off);
    this.#off = undefined;
    this.active = false;
  }

  /** Newest first. */
  recent(): readonly Decision[] {
    return [...this.#ring].reverse();
  }

  begin(cycleState: CycleState): void {
    const now = this.#now();
    if (now - this.#lastBegin < this.#minGapMs) return;
    this.#lastBegin = now;
    this.#pending.set(cycleState, { profiles: new Map() });
  }

  scored(cycleState: CycleState, profile: string, scorer: string, weight: number, endpoints: readonly Endpoint[], scores: ArrayLike<number>): void {
    const p = this.#profile(cycleState, profile, endpoints);
    if (!p) return;
    const col: number[] = new Array(endpoints.length);
    for (let i = 0; i < endpoints.length; i++) {
      const s = scores[i];
      col[i] = s === undefined || !(s > 0) ? 0 : round(s > 1 ? 1 : s);
    }
    p.scorers.push({ scorer, weight, scores: col });
  }

  picked(cycleState: CycleState, profile: string, endpoints: readonly Endpoint[], totals: Float64Array, result: ProfileRunResult): void {
    const p = this.#profile(cycleState, profile, endpoints);
    if (!p) return;
    p.totals = Array.from(totals, round);
    p.picked = result.targetEndpoints.map((t) => nameOf(t.endpoint));
  }

  failed(cycleState: CycleState, profile: string, reason: string): void {
    const p = this.#profile(cycleState, profile, []);
    if (p) p.failure = reason;
  }

  finished(cycleState: CycleState, request: InferenceRequest, result: SchedulingResult): void {
    const pending = this.#pending.get(cycleState);
    if (!pending) return; // not sampled
    this.#pending.delete(cycleState);
    const primary = result.profileResults.get(result.primaryProfileName)?.targetEndpoints[0]?.endpoint;
    const match = cycleState.read(PREFIX_CACHE_MATCH_KEY) as PrefixMatchInfo | undefined;
    const at = match && primary ? match.candidates.indexOf(primary) : -1;
    const decision: Decision = {
      seq: ++this.#seq,
      at: this.#now(),
      requestId: request.requestId,
      model: request.incomingModel,
      targetModel: request.targetModel,
      priority: request.priority,
      promptTokens: request.tokenizedPrompt?.prompts[0]?.tokenIds.length ?? request.promptTokens,
      primaryProfile: result.primaryProfileName,
      destination: primary?.hostPort,
      destinationName: primary?.metadata.name,
      profiles: [...pending.profiles.entries()].map(([profile, p]) => ({ profile, ...p })),
      ...(match && at >= 0 ? { prefix: { matchedBlocks: match.matched[at]!, totalBlocks: match.totalBlocks } } : {}),
    };
    this.#ring.push(decision);
    if (this.#ring.length > this.capacity) this.#ring.shift();
  }

  /** The cycle's record of `profile`, or undefined when the cycle is not sampled. */
  #profile(cycleState: CycleState, profile: string, endpoints: readonly Endpoint[]) {
    const pending = this.#pending.get(cycleState);
    if (!pending) return undefined;
    let p = pending.profiles.get(profile);
    if (!p) pending.profiles.set(profile, (p = { candidates: endpoints.map(nameOf), scorers: [], totals: [], picked: [] }));
    else if (p.candidates.length === 0 && endpoints.length > 0) p.candidates = endpoints.map(nameOf);
    return p;
  }
}
