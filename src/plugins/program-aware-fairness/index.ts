/**
 * program-aware-fairness (llm-d): the flows of a band are programs (fairness IDs: tenants, agentic
 * workflows) and the one with the least attained service goes next. Service is the tokens a program's
 * finished requests consumed, prompt + 2 × completion, decaying with a half-life in wall-clock time, so a
 * program that was idle competes again on near-equal footing. Score per non-empty flow:
 * `lasWeightService · (1 − norm(service)) + lasWeightHeadWait · norm(head wait)`, each normalised over the
 * band's flows by min-max (0.5 when all are equal); the highest wins, ties to the first flow seen.
 *
 * It is also a PreRequest (counts the program's request in flight) and a ResponseComplete plugin (adds
 * the request's usage, ends the in-flight count on every outcome, where llm-d only sees streams that end
 * normally); idle programs are forgotten by a periodic sweep.
 */
import { z } from 'zod';
import type { PluginHandle, PluginRegistration, PluginGauge } from '../../framework/plugin.js';
import type { BandView, FairnessPolicy, FlowQueueView } from '../../framework/flow-control.js';
import type { PreRequest, RequestOutcome, ResponseComplete } from '../../framework/request-control.js';
import type { InferenceRequest } from '../../framework/request.js';
import { parseParameters } from '../shared/params.js';

export const PROGRAM_AWARE_FAIRNESS = 'program-aware-fairness';

const FAIRNESS_HEADERS = ['x-llm-d-inference-fairness-id', 'x-gateway-inference-fairness-id'];
const DEFAULT_PROGRAM = 'default-flow';
const INPUT_TOKEN_WEIGHT = 1;
const OUTPUT_TOKEN_WEIGHT = 2;

const nonNegative = (what: string) => z.number({ error: `must be a number >= 0` }).refine((v) => Number.isFinite(v) && v >= 0, { error: `${what} must be >= 0` }).nullish();

export const parametersSchema = z.object({
  strategy: z.string({ error: 'must be a string' }).refine((s) => s === 'las', { error: 'unknown scoring strategy: only "las" is supported' }).nullish(),
  lasWeightService: nonNegative('lasWeightService'),
  lasWeightHeadWait: nonNegative('lasWeightHeadWait'),
  lasHalfLifeSeconds: nonNegative('lasHalfLifeSeconds'),
  evictionTtlSeconds: nonNegative('evictionTtlSeconds'),
  evictionSweepSeconds: z.number({ error: 'must be a number > 0' }).refine((v) => Number.isFinite(v) && v > 0, { error: 'evictionSweepSeconds must be > 0' }).nullish(),
});

export interface ProgramAwareConfig {
  readonly weightService: number;
  readonly weightHeadWait: number;
  /** 0: no decay, service accumulates for the program's lifetime. */
  readonly halfLifeSeconds: number;
  /** 0: programs are never forgotten. */
  readonly evictionTtlSeconds: number;
  readonly evictionSweepSeconds: number;
}

export const DEFAULT_CONFIG: ProgramAwareConfig = { weightService: 0.8, weightHeadWait: 0.2, halfLifeSeconds: 60, evictionTtlSeconds: 3600, evictionSweepSeconds: 300 };

/** What the policy keeps per program. Times in ms on the injected clock. */
interface Program {
  service: number;
  /** Up to when decay has been folded into `service`. */
  decayAnchor: number;
  avgWaitMs: number;
  waits: number;
  inFlight: number;
  dispatched: number;
  lastCompletion: number;
}

/** Clocks: `wall` for decay and eviction (Date.now), `mono` on the queue's clock (performance.now) for head waits. */
export interface ProgramAwareClocks {
  readonly wall: () => number;
  readonly mono: () => number;
}

const norm = (v: number, min: number, max: number) => (max === min ? 0.5 : (v - min) / (max - min));

export function programIdOf(request: InferenceRequest): string {
  for (const h of FAIRNESS_HEADERS) {
    const v = request.headers[h];
    if (v) return v;
  }
  return DEFAULT_PROGRAM;
}

export class ProgramAwareFairness implements FairnessPolicy, PreRequest, ResponseComplete {
  readonly type = PROGRAM_AWARE_FAIRNESS;
  readonly #programs = new Map<string, Program>();
  readonly #c: ProgramAwareConfig;
  readonly #clocks: ProgramAwareClocks;
  readonly #avgWait: PluginGauge | undefined;
  readonly #service: PluginGauge | undefined;
  #sweep: NodeJS.Timeout | undefined;
  // Scratch for pick (reused: a pick runs per dispatch).
  #flows: FlowQueueView[] = [];
  #services: number[] = [];
  #waits: number[] = [];

  constructor(
    readonly name: string,
    config: ProgramAwareConfig = DEFAULT_CONFIG,
    clocks: ProgramAwareClocks = { wall: Date.now, mono: () => performance.now() },
    metrics?: PluginHandle['services']['metrics'],
  ) {
    this.#c = config;
    this.#clocks = clocks;
    this.#avgWait = metrics?.gauge?.('llm_d_epp_program_aware_avg_wait_time_milliseconds', 'Cumulative mean of flow-control queue wait time per program in milliseconds.', ['program_id']);
    this.#service = metrics?.gauge?.('llm_d_epp_program_aware_attained_service_tokens', 'Time-decayed attained service (weighted tokens consumed) per program.', ['program_id']);
    metrics?.gauge?.("llm_d_epp_program_aware_jains_fairness_index", "Jain's fairness index over average wait time across active programs.", [], (g) => g.set([], this.fairnessIndex()));
    if (config.evictionTtlSeconds > 0) {
      this.#sweep = setInterval(() => this.evictIdle(), config.evictionSweepSeconds * 1000);
      this.#sweep.unref();
    }
  }

  newState(): undefined {
    return undefined;
  }

  pick(band: BandView): FlowQueueView | undefined {
    const flows = this.#flows;
    const services = this.#services;
    const waits = this.#waits;
    flows.length = services.length = waits.length = 0;
    const wall = this.#clocks.wall();
    const mono = this.#clocks.mono();
    let minS = Infinity, maxS = -Infinity, minW = Infinity, maxW = -Infinity;
    for (const flow of band.flows()) {
      if (flow.length === 0) continue;
      const s = this.#decayed(this.#program(flow.id, wall), wall);
      const w = Math.floor(mono - flow.head().enqueuedAt);
      flows.push(flow);
      services.push(s);
      waits.push(w);
      if (s < minS) minS = s;
      if (s > maxS) maxS = s;
      if (w < minW) minW = w;
      if (w > maxW) maxW = w;
    }
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < flows.length; i++) {
      const score = this.#c.weightService * (1 - norm(services[i]!, minS, maxS)) + this.#c.weightHeadWait * norm(waits[i]!, minW, maxW);
      if (score > bestScore) [best, bestScore] = [i, score];
    }
    if (best < 0) return undefined;
    // The picked flow's head is dispatched now: its wait is the program's queue wait.
    const picked = flows[best]!;
    const p = this.#program(picked.id, wall);
    p.waits++;
    p.avgWaitMs += (waits[best]! - p.avgWaitMs) / p.waits;
    this.#avgWait?.set([picked.id], p.avgWaitMs);
    flows.length = 0; // hold no queue views between picks
    return picked;
  }

  preRequest(request: InferenceRequest): void {
    const p = this.#program(programIdOf(request), this.#clocks.wall());
    p.inFlight++;
    p.dispatched++;
  }

  responseComplete(request: InferenceRequest, outcome: RequestOutcome): void {
    const id = programIdOf(request);
    const now = this.#clocks.wall();
    const p = this.#program(id, now);
    if (p.inFlight > 0) p.inFlight--;
    p.lastCompletion = now;
    const usage = outcome.kind === 'success' ? outcome.usage : undefined;
    if (!usage) return;
    this.#decayed(p, now);
    p.service += INPUT_TOKEN_WEIGHT * usage.promptTokens + OUTPUT_TOKEN_WEIGHT * usage.completionTokens;
    this.#service?.set([id], p.service);
  }

  /** Forgets programs with nothing in flight and no completion within the TTL (and their series). */
  evictIdle(): void {
    const now = this.#clocks.wall();
    for (const [id, p] of this.#programs) {
      if (p.inFlight !== 0 || now - p.lastCompletion <= this.#c.evictionTtlSeconds * 1000) continue;
      this.#programs.delete(id);
      this.#avgWait?.remove([id]);
      this.#service?.remove([id]);
    }
  }

  /** Jain's index over the programs' mean waits: 1 is perfectly even (also with fewer than two programs). */
  fairnessIndex(): number {
    let sum = 0, sumSq = 0, n = 0;
    for (const p of this.#programs.values()) {
      if (p.waits === 0) continue;
      sum += p.avgWaitMs;
      sumSq += p.avgWaitMs * p.avgWaitMs;
      n++;
    }
    return n <= 1 || sumSq === 0 ? 1 : (sum * sum) / (n * sumSq);
  }

  /** The program's attained service, decayed to `now`. */
  service(id: string): number | undefined {
    const p = this.#programs.get(id);
    return p && this.#decayed(p, this.#clocks.wall());
  }

  get programs(): number {
    return this.#programs.size;
  }

  close(): void {
    clearInterval(this.#sweep);
  }

  #program(id: string, now: number): Program {
    let p = this.#programs.get(id);
    if (!p) {
      // A program seen but never completing still becomes evictable after the TTL.
      p = { service: 0, decayAnchor: now, avgWaitMs: 0, waits: 0, inFlight: 0, dispatched: 0, lastCompletion: now };
      this.#programs.set(id, p);
    }
    return p;
  }

  #decayed(p: Program, now: number): number {
    const elapsed = (now - p.decayAnchor) / 1000;
    if (elapsed > 0) {
      if (this.#c.halfLifeSeconds > 0) p.service *= Math.pow(2, -elapsed / this.#c.halfLifeSeconds);
      p.decayAnchor = now;
    }
    return p.service;
  }
}

export const registration: PluginRegistration = {
  type: PROGRAM_AWARE_FAIRNESS,
  parameters: parametersSchema,
  factory: (name, parameters, handle) => {
    const p = parseParameters(parametersSchema, parameters);
    const config: ProgramAwareConfig = {
      weightService: p.lasWeightService ?? DEFAULT_CONFIG.weightService,
      weightHeadWait: p.lasWeightHeadWait ?? DEFAULT_CONFIG.weightHeadWait,
      halfLifeSeconds: p.lasHalfLifeSeconds ?? DEFAULT_CONFIG.halfLifeSeconds,
      evictionTtlSeconds: p.evictionTtlSeconds ?? DEFAULT_CONFIG.evictionTtlSeconds,
      evictionSweepSeconds: p.evictionSweepSeconds ?? DEFAULT_CONFIG.evictionSweepSeconds,
    };
    return new ProgramAwareFairness(name, config, undefined, handle.services.metrics);
  },
};
