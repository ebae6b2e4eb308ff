import type { Endpoint } from '../../framework/endpoint.js';
import { minMaxScorerRegistration } from '../shared/min-max.js';

export const QUEUE_SCORER = 'queue-scorer';

/** Waiting queue as scraped, plus what this EPP dispatched since that scrape (the reservation). */
export const expectedQueue = (e: Endpoint) => e.metrics.waitingQueueSize + e.load.unscrapedDispatches;

export const registration = minMaxScorerRegistration(QUEUE_SCORER, expectedQueue);
