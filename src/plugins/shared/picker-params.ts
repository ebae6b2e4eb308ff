import { paramsOf, positiveInt } from './params.js';

/** `maxNumOfEndpoints` (default 1): how many endpoints a picker returns; more than one are fallbacks. */
export function maxNumOfEndpoints(parameters: unknown): number {
  return positiveInt(paramsOf(parameters), 'maxNumOfEndpoints', 1);
}
