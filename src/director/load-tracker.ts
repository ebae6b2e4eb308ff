import type { EndpointLoad, EndpointLifecycleListener } from '../framework/endpoint.js';

/**
 * The EPP's own accounting of what it dispatched to one endpoint. It is the `load` every snapshot of the
 * endpoint points at, so a reservation made at pick time is visible to the very next cycle.
 */
export class LoadRecord implements EndpointLoad {
  inFlightRequests = 0;
  inFlightTokens = 0;
  /** Dispatch times (ms) no scrape has seen yet, oldest first. */
  readonly #unscraped: number[] = [];

  get unscrapedDispatches(): number {
    return this.#unscraped.length;
  }

  dispatched(at: number, tokens: number): void {
    this.inFlightRequests++;
    this.inFlightTokens += tokens;
    this.#unscraped.push(at);
  }

  finished(dispatchedAt: number, tokens: number): void {
    this.inFlightRequests = Math.max(0, this.inFlightRequests - 1);
    this.inFlightTokens = Math.max(0, this.inFlightTokens - tokens);
    const i = this.#unscraped.indexOf(dispatchedAt);
    if (i >= 0) this.#unscraped.splice(i, 1);
  }

  /** A scrape taken at `updateTime` reflects every dispatch made before it. */
  scraped(updateTime: number): void {
    let n = 0;
    while (n < this.#unscraped.length && this.#unscraped[n]! < updateTime) n++;
    if (n > 0) this.#unscraped.splice(0, n);
  }
}

/** What `reserve` returns; releasing it twice is harmless. */
export interface Reservation {
  readonly endpointKey: string;
  readonly tokens: number;
  readonly at: number;
  released: boolean;
}

/** Per-endpoint load records, by endpoint key. */
export class LoadTracker implements EndpointLifecycleListener {
  readonly #records = new Map<string, LoadRecord>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  recordFor(endpointKey: string): LoadRecord {
    let record = this.#records.get(endpointKey);
    if (!record) {
      record = new LoadRecord();
      this.#records.set(endpointKey, record);
    }
    return record;
  }

  reserve(endpointKey: string, tokens: number): Reservation {
    const at = this.#now();
    this.recordFor(endpointKey).dispatched(at, tokens);
    return { endpointKey, tokens, at, released: false };
  }

  release(reservation: Reservation): void {
    if (reservation.released) return;
    reservation.released = true;
    this.#records.get(reservation.endpointKey)?.finished(reservation.at, reservation.tokens);
  }

  /** Sum of in-flight requests over all endpoints (for leak checks and metrics). */
  totalInFlight(): number {
    let total = 0;
    for (const r of this.#records.values()) total += r.inFlightRequests;
    return total;
  }

  endpointRemoved(key: string): void {
    this.#records.delete(key);
  }
}
