/** A Director stand-in for driving ProcessStream alone: it routes to fixed destinations or throws. */
import type { Director, RoutedRequest } from '../../src/director/director.js';
import type { EppError } from '../../src/errors.js';
import { promptRequest } from '../../src/request/prompt-request.js';
import { makeEndpoint } from './fixtures.js';

export interface StubCalls {
  completed: string[];
  /** Routes handed out. */
  routes?: number;
  /** Outcomes of responses on streams without a request phase. */
  unrouted?: { kind: string; usage?: unknown; bytes: number }[];
}

/** A director that routes to the golden destinations, or fails with `error`. */
export function stubDirector(error?: EppError, calls: StubCalls = { completed: [] }, rewriteTo?: string): Director {
  const routed = (body: Uint8Array): RoutedRequest => ({
    request: promptRequest('hi', { requestId: 'req-1', model: 'food-review', ...(rewriteTo ? { targetModel: rewriteTo } : {}) }),
    destinations: ['10.0.0.7:8000', '10.0.0.8:8000'],
    endpoint: makeEndpoint({ name: 'p', address: '10.0.0.7' }),
    body,
    bodyChanged: false,
    requestBytes: body.length,
    startedAt: 0,
    done: false,
    reservation: undefined,
  });
  const route = (input: { body: Uint8Array }) => {
    if (error) throw error;
    calls.routes = (calls.routes ?? 0) + 1;
    return routed(input.body);
  };
  return {
    route,
    routeOrOffload: route,
    responseHeaders: () => {},
    served: () => {},
    responseChunk: () => {},
    complete: (_r: RoutedRequest, outcome: { kind: string }) => void calls.completed.push(outcome.kind),
    rejected: () => {},
    completeUnrouted: (outcome: { kind: string; usage?: unknown }, bytes: number) => void (calls.unrouted ??= []).push({ kind: outcome.kind, ...(outcome.usage ? { usage: outcome.usage } : {}), bytes }),
  } as unknown as Director;
}

