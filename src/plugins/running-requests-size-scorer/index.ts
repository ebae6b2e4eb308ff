import type { Endpoint } from '../../framework/endpoint.js';
import { minMaxScorerRegistration } from '../shared/min-max.js';

export const RUNNING_REQUESTS_SIZE_SCORER = 'running-requests-size-scorer';

/** Running requests as scraped, plus what this EPP dispatched since that scrape (the reservation). */
export const expectedRunning = (e: Endpoint) => e.metrics.runningRequestsSize + e.load.unscrapedDispatches;

export const registration = minMaxScorerRegistration(RUNNING_REQUESTS_SIZE_SCORER, expectedRunning);
