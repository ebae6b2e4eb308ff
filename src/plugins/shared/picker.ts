import type { PluginRegistration, RandomSource } from '../../framework/plugin.js';
import type { Picker, ProfileRunResult, ScoredEndpoint } from '../../framework/scheduling.js';
import { z } from 'zod';
import { param, parseParameters } from './params.js';

/** The parameters every picker knows. */
export const pickerParametersSchema = z.object({ maxNumOfEndpoints: param.positiveInt() });

/** What every picker shares: `maxNumOfEndpoints` (default 1; more than one means fallbacks) and the random source. */
export abstract class RandomizedPicker implements Picker {
  abstract readonly type: string;
  constructor(
    readonly name: string,
    readonly maxNumOfEndpoints: number,
    protected readonly random: RandomSource,
  ) {}
  abstract pick(cycleState: unknown, scored: readonly ScoredEndpoint[]): ProfileRunResult;
}

export function pickerRegistration(
  type: string,
  Ctor: new (name: string, maxNumOfEndpoints: number, random: RandomSource) => RandomizedPicker,
): PluginRegistration {
  return {
    type,
    parameters: pickerParametersSchema,
    factory: (name, parameters, handle) => new Ctor(name, parseParameters(pickerParametersSchema, parameters).maxNumOfEndpoints ?? 1, handle.services.random),
  };
}
