import type { Endpoint } from '../framework/endpoint.js';
import type { InferenceRequest } from '../framework/request.js';
import type { DataProducer, PreRequest } from '../framework/request-control.js';
import { primaryTargets, type Scheduler, type SchedulingResult } from '../framework/scheduling.js';
import { MapCycleState } from '../scheduling/cycle-state.js';
import { ExtensionPoints, nullObserver, type DurationRecorder, type SchedulingObserver } from '../scheduling/observer.js';
import type { LoadTracker, Reservation } from './load-tracker.js';

export interface PickCycleParts {
  /** In dependency order (the loader sorts them). */
  readonly producers: readonly DataProducer[];
  readonly scheduler: Scheduler;
  readonly preRequests: readonly PreRequest[];
  readonly loadTracker: LoadTracker;
}

export interface PickOutcome {
  readonly result: SchedulingResult;
  /** The in-flight reservation on the primary target; release it when the request ends, however it ends. */
  readonly reservation: Reservation | undefined;
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

  constructor(parts: PickCycleParts, observer: SchedulingObserver = nullObserver) {
    this.#producers = parts.producers.map((p) => ({ plugin: p, record: observer.pluginTimer(ExtensionPoints.dataProducer, p) }));
    this.#preRequests = parts.preRequests.map((p) => ({ plugin: p, record: observer.pluginTimer(ExtensionPoints.preRequest, p) }));
    this.#scheduler = parts.scheduler;
    this.#tracker = parts.loadTracker;
  }

  run(request: InferenceRequest, candidates: readonly Endpoint[]): PickOutcome {
    const cycleState = new MapCycleState();
    for (const { plugin, record } of this.#producers) {
      const t = performance.now();
      plugin.produce(request, candidates, cycleState);
      record((performance.now() - t) / 1000);
    }
    const result = this.#scheduler.schedule(request, candidates, cycleState);
    for (const { plugin, record } of this.#preRequests) {
      const t = performance.now();
      plugin.preRequest(request, result, cycleState);
      record((performance.now() - t) / 1000);
    }
    const primary = primaryTargets(result)[0];
    const reservation = primary ? this.#tracker.reserve(primary.endpoint.key, request.promptTokens) : undefined;
    return { result, reservation };
  }
}
