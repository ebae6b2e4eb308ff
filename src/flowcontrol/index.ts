/**
 * Flow control assembled for the director: the controller, its metrics, and (with `enableEviction`) the
 * in-flight tracking that lets it evict sheddable requests. The composition root builds it only when the
 * `flowControl` feature gate is on.
 */
import type { Registry as PromRegistry } from 'prom-client';
import type { Endpoint } from '../framework/endpoint.js';
import type { SaturationDetector } from '../framework/saturation.js';
import type { FlowGate, RoutedRequest } from '../director/director.js';
import type { FlowControlSettings } from './config.js';
import { FlowController, type AdmissionRequest, type CancelHook } from './controller.js';
import { ENGINE_RECLAIM_BUDGET_MS, InFlightRequests, LEADING_SENSOR_GRACE_MS, Reclaimer, type Evictable } from './eviction.js';
import { PromFlowControlMetrics } from './metrics.js';

export { buildFlowControlSettings, FLOW_CONTROL_GATE } from './config.js';
export type { FlowControlSettings } from './config.js';
export { FlowController } from './controller.js';

export interface FlowControlDeps {
  readonly pool: () => readonly Endpoint[];
  readonly detector: SaturationDetector;
  readonly metrics: PromRegistry;
  readonly poolName: string;
  /** --refresh-metrics-interval and --metrics-staleness-threshold, ms: they pace eviction decisions. */
  readonly refreshMs: number;
  readonly stalenessMs: number;
}

export interface FlowControl {
  readonly gate: FlowGate;
  readonly controller: FlowController;
  /** Something may have freed capacity (new metrics, a pod joined): try to dispatch on the next turn. */
  kick(): void;
  close(): void;
}

export function startFlowControl(settings: FlowControlSettings, deps: FlowControlDeps): FlowControl {
  const now = () => performance.now();
  let controllerRef: FlowController | undefined;
  const observer = new PromFlowControlMetrics(deps.metrics, deps.poolName, {
    saturation: () => controllerRef!.saturation(),
    staleEndpoints: () => controllerRef!.staleEndpoints(),
    bands: () => controllerRef!.bands(),
    global: () => controllerRef!.global(),
  });
  let inFlight: InFlightRequests | undefined;
  let reclaimer: Reclaimer | undefined;
  if (settings.enableEviction) {
    inFlight = new InFlightRequests();
    // The freed capacity shows once the detector sees it: at once for one that counts in-flight requests,
    // after the next fresh scrape for one that reads model-server metrics.
    const graceMs = deps.detector.type === 'concurrency-detector' ? LEADING_SENSOR_GRACE_MS : deps.refreshMs + deps.stalenessMs + ENGINE_RECLAIM_BUDGET_MS;
    reclaimer = new Reclaimer(inFlight, graceMs, now, observer);
  }
  const controller = new FlowController(settings, { pool: deps.pool, detector: deps.detector, observer, now, ...(reclaimer ? { onBlocked: reclaimer } : {}) });
  controllerRef = controller;

  const tracked = new Map<RoutedRequest, Evictable>();
  const gate: FlowGate = {
    admit(request: AdmissionRequest, dispatch: () => RoutedRequest | Promise<RoutedRequest>, cancel: CancelHook | undefined) {
      if (!inFlight) return controller.admit(request, dispatch, cancel) as RoutedRequest | Promise<RoutedRequest>;
      const tracking = inFlight;
      const track = (routed: RoutedRequest) => {
        if (routed.done) return routed;
        const evictable: Evictable = { priority: routed.request.priority, evict: () => routed.evict?.() };
        tracked.set(routed, evictable);
        tracking.track(evictable, now());
        return routed;
      };
      return controller.admit(
        request,
        () => {
          const routed = dispatch();
          return routed instanceof Promise ? routed.then(track) : track(routed);
        },
        cancel,
      ) as RoutedRequest | Promise<RoutedRequest>;
    },
    finished(routed: RoutedRequest) {
      const evictable = tracked.get(routed);
      if (evictable) {
        tracked.delete(routed);
        inFlight?.untrack(evictable);
        reclaimer?.ended(evictable);
      }
      controller.kick();
    },
  };
  return { gate, controller, kick: () => controller.kick(), close: () => controller.close() };
}
