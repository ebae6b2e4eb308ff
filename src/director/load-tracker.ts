import type { EndpointLoad, LoadLedger } from '../framework/endpoint.js';

/** One endpoint's load record: plain data, mutated only by its LoadTracker. */
interface LoadRecord {
  inFlightRequests: number;
  inFlightTokens: number;
  unscrapedDispatches: number;
}

interface Ledger {
  readonly record: LoadRecord;
  /** Dispatch times (ms) no scrape has seen yet, oldest first; `record.unscrapedDispatches` is its length. */
  readonly unscraped: number[];
}

/** What `reserve` returns; releasing it twice is harmless. */
export interface Reservation {
  readonly endpointKey: string;
  readonly tokens: number;
  readonly at: number;
  released: boolean;
}

/**
 * Per-endpoint load records, by endpoint key: the one owner of the `load` every snapshot of an endpoint
 * points at, so a reservation made at pick time is visible to the very next cycle.
 */
export class LoadTracker implements LoadLedger {
  readonly #records = new Map<string, Ledger>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #ledger(endpointKey: string): Ledger {
    let ledger = this.#records.get(endpointKey);
    if (!ledger) {
      ledger = { record: { inFlightRequests: 0, inFlightTokens: 0, unscrapedDispatches: 0 }, unscraped: [] };
      this.#records.set(endpointKey, ledger);
    }
    return ledger;
  }

  loadOf(endpointKey: string): EndpointLoad {
    return this.#ledger(endpointKey).record;
  }

  reserve(endpointKey: string, tokens: number): Reservation {
    const at = this.#now();
    const { record, unscraped } = this.#ledger(endpointKey);
    record.inFlightRequests++;
    record.inFlightTokens += tokens;
    unscraped.push(at);
    record.unscrapedDispatches = unscraped.length;
    return { endpointKey, tokens, at, released: false };
  }

  release(reservation: Reservation): void {
    if (reservation.released) return;
    reservation.released = true;
    const ledger = this.#records.get(reservation.endpointKey);
    if (!ledger) return; // the endpoint left; its record went with it
    const { record, unscraped } = ledger;
    record.inFlightRequests = Math.max(0, record.inFlightRequests - 1);
    record.inFlightTokens = Math.max(0, record.inFlightTokens - reservation.tokens);
    const i = unscraped.indexOf(reservation.at);
    if (i >= 0) unscraped.splice(i, 1);
    record.unscrapedDispatches = unscraped.length;
  }

  scraped(endpointKey: string, updateTime: number): void {
    const ledger = this.#records.get(endpointKey);
    if (!ledger) return;
    const { record, unscraped } = ledger;
    let n = 0;
    while (n < unscraped.length && unscraped[n]! < updateTime) n++;
    if (n > 0) unscraped.splice(0, n);
    record.unscrapedDispatches = unscraped.length;
  }

  /** Sum of in-flight requests over all endpoints (for leak checks and metrics). */
  totalInFlight(): number {
    let total = 0;
    for (const { record } of this.#records.values()) total += record.inFlightRequests;
    return total;
  }

  endpointRemoved(key: string): void {
    this.#records.delete(key);
  }
}
