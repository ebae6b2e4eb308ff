import type { Endpoint } from '../framework/endpoint.js';
import { promptTokenCount, type InferenceRequest } from '../framework/request.js';
import type { DataProducer, PreRequest } from '../framework/request-control.js';
import { primaryTargets, type Scheduler, type SchedulingResult } from '../framework/scheduling.js';
import { HeaderEditList, NO_HEADER_MUTATION, type HeaderMutation } from '../framework/headers.js';
import { MapCycleState } from '../scheduling/cycle-state.js';
import { ExtensionPoints, nullObserver, type DurationRecorder, type SchedulingObserver } from '../scheduling/observer.js';
import type { LoadTracker, Reservation } from './load-tracker.js';
import type { ScoreTrace } from '../scheduling/score-trace.js';

const NONE: readonly Reservation[] = Object.freeze([]);

export interface PickCycleParts {
  /** In dependency order (the loader sorts them). */
  readonly producers: readonly DataProducer[];
  readonly scheduler: Scheduler;
  readonly preRequests: readonly PreRequest[];
  readonly loadTracker: LoadTracker;
  /** Told of each finished decision while someone watches (the status page). */
  readonly trace?: ScoreTrace;
}

export interface PickOutcome {
  readonly result: SchedulingResult;
  /** The in-flight reservation on the primary target; release it when the request ends, however it ends. */
  readonly reservation: Reservation | undefined;
  /**
   * Reservations on the other profiles' picks (a P/D prefill pod, encoders): those pods get the request
   * too, through the decode pod's sidecar. Released when the response starts (their part is done by then)
   * or when the request ends, whichever comes first.
   */
  readonly secondary: readonly Reservation[];
  /** Request-header edits PreRequest plugins asked for; the routing reply carries them to the proxy. */
  readonly requestHeaders: HeaderMutation;
}

/**
 * The synchronous heart of the director: data producers → scheduler → PreRequest → reservation. Nothing
 * awaits between the pick and the reservation, so the next request already sees this one's load and
 * prefix blocks: back-to-back requests do not herd onto one pod while metrics lag.
 */
export class PickCycle {
  readonly #producers: readonly { plugin: DataProducer; record: DurationRecorder }[];
  readonly #preRequests: readonly { plugin: PreRequest; record: DurationRecorder }[];
  readonly #scheduler: Scheduler;
  readonly #tracker: LoadTracker;
  readonly #trace: ScoreTrace | undefined;

  constructor(parts: PickCycleParts, observer: SchedulingObserver = nullObserver) {
    this.#producers = parts.producers.map((p) => ({ plugin: p, record: observer.pluginTimer(ExtensionPoints.dataProducer, p) }));
    this.#preRequests = parts.preRequests.map((p) => ({ plugin: p, record: observer.pluginTimer(ExtensionPoints.preRequest, p) }));
    this.#scheduler = parts.scheduler;
    this.#tracker = parts.loadTracker;
    this.#trace = parts.trace;
  }

  /**
   * Synchronous unless a producer returns a promise: then the rest of the cycle (later producers,
   * scheduling, PreRequest, reservation) runs, still in one piece, once it settles. A config whose
   * producers are all synchronous never allocates a promise here.
   */
  run(request: InferenceRequest, candidates: readonly Endpoint[]): PickOutcome | Promise<PickOutcome> {
    return this.#from(0, request, candidates, new MapCycleState());
  }

  /** `run` for configs known to be synchronous (benchmarks, tests); an asynchronous producer is an error. */
  runSync(request: InferenceRequest, candidates: readonly Endpoint[]): PickOutcome {
    const outcome = this.run(request, candidates);
    if (outcome instanceof Promise) throw new TypeError('PickCycle.runSync: a data producer returned a promise');
    return outcome;
  }

  #from(first: number, request: InferenceRequest, candidates: readonly Endpoint[], cycleState: MapCycleState): PickOutcome | Promise<PickOutcome> {
    const producers = this.#producers;
    for (let i = first; i < producers.length; i++) {
      const { plugin, record } = producers[i]!;
      const t = performance.now();
      const pending = plugin.produce(request, candidates, cycleState);
      if (pending !== undefined && typeof (pending as Promise<void>).then === 'function') {
        return (pending as Promise<void>).then(() => {
          record((performance.now() - t) / 1000);
          return this.#from(i + 1, request, candidates, cycleState);
        });
      }
      record((performance.now() - t) / 1000);
    }
    return this.#pick(request, candidates, cycleState);
  }

  #pick(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: MapCycleState): PickOutcome | Promise<PickOutcome> {
    if (this.#trace?.active) this.#trace.begin(cycleState);
    const result = this.#scheduler.schedule(request, candidates, cycleState);
    // Scorers on the worker pool: PreRequest and the reservation follow the pick as soon as it is made.
    if (result instanceof Promise) return result.then((r) => this.#reserve(request, r, cycleState));
    return this.#reserve(request, result, cycleState);
  }

  #reserve(request: InferenceRequest, result: SchedulingResult, cycleState: MapCycleState): PickOutcome {
    let edits: HeaderEditList | undefined;
    for (const { plugin, record } of this.#preRequests) {
      const t = performance.now();
      plugin.preRequest(request, result, cycleState, (edits ??= new HeaderEditList()));
      record((performance.now() - t) / 1000);
    }
    if (this.#trace?.active) this.#trace.finished(cycleState, request, result);
    const primary = primaryTargets(result)[0];
    // The real prompt size when a tokenizer produced one: token-load-scorer balances on it.
    const tokens = promptTokenCount(request);
    const reservation = primary ? this.#tracker.reserve(primary.endpoint.key, tokens) : undefined;
    const secondary = result.profileResults.size > 1 ? this.#reserveOthers(result, primary?.endpoint.key, tokens) : NONE;
    return { result, reservation, secondary, requestHeaders: edits && !edits.isEmpty ? edits.mutation : NO_HEADER_MUTATION };
  }

  /** One reservation per other endpoint a non-primary profile picked (first pick of each). */
  #reserveOthers(result: SchedulingResult, primaryKey: string | undefined, tokens: number): Reservation[] {
    const seen = new Set(primaryKey === undefined ? [] : [primaryKey]);
    const out: Reservation[] = [];
    for (const [name, run] of result.profileResults) {
      if (name === result.primaryProfileName || !run) continue;
      const endpoint = run.targetEndpoints[0]?.endpoint;
      if (!endpoint || seen.has(endpoint.key)) continue;
      seen.add(endpoint.key);
      out.push(this.#tracker.reserve(endpoint.key, tokens));
    }
    return out;
  }
}
