/**
 * data-parallel-profile-handler (llm-d, deprecated there in favour of single-profile-handler with Istio ≥
 * 1.28.1): one profile, run once; the pick keeps its address but its port becomes `primaryPort` (the pod's
 * main server, which forwards to the data-parallel rank), and the rank's own `address:port` goes to the
 * pod in request header `x-data-parallel-host-port`.
 */
import { z } from 'zod';
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { InferenceRequest } from '../../framework/request.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { HeaderEdits } from '../../framework/headers.js';
import type { PreRequest } from '../../framework/request-control.js';
import type { ProfileHandler, ProfileResults, SchedulerProfile, SchedulingResult } from '../../framework/scheduling.js';
import { ConfigError, EppError, ErrorCodes } from '../../errors.js';
import { parseParameters } from '../shared/params.js';

export const DATA_PARALLEL_PROFILE_HANDLER = 'data-parallel-profile-handler';
export const DATA_PARALLEL_HEADER = 'x-data-parallel-host-port';

export const parametersSchema = z.object({
  primaryPort: z.number({ error: 'must be an integer between 1 and 65535' }).int({ error: 'must be an integer between 1 and 65535' }).nullish(),
});

const joinHostPort = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

export class DataParallelProfileHandler implements ProfileHandler, PreRequest {
  readonly type = DATA_PARALLEL_PROFILE_HANDLER;
  /** The rank each result was rewritten from, for PreRequest's header. */
  readonly #ranks = new WeakMap<SchedulingResult, string>();

  constructor(
    readonly name: string,
    readonly primaryPort: number,
  ) {}

  pick(_req: unknown, profiles: ReadonlyMap<string, SchedulerProfile>, resultsSoFar: ProfileResults): readonly SchedulerProfile[] {
    if (resultsSoFar.size > 0 || profiles.size !== 1) return [];
    return [...profiles.values()];
  }

  processResults(_req: unknown, results: ProfileResults): SchedulingResult {
    if (results.size !== 1) throw new EppError(ErrorCodes.INTERNAL, `${DATA_PARALLEL_PROFILE_HANDLER} is intended to be used with a single profile, got ${results.size}`);
    const [name, result] = [...results][0]!;
    if (!result || result.targetEndpoints.length === 0) throw new EppError(ErrorCodes.NO_CAPACITY, `failed to run scheduler profile "${name}"`);
    const rank = result.targetEndpoints[0]!.endpoint;
    const onPrimary = (e: Endpoint): Endpoint => ({ ...e, hostPort: joinHostPort(e.metadata.address, this.primaryPort), metadata: { ...e.metadata, port: this.primaryPort } });
    const rewritten: SchedulingResult = {
      profileResults: new Map([[name, { ...result, targetEndpoints: result.targetEndpoints.map((t) => ({ ...t, endpoint: onPrimary(t.endpoint) })) }]]),
      primaryProfileName: name,
    };
    this.#ranks.set(rewritten, joinHostPort(rank.metadata.address, rank.metadata.port));
    return rewritten;
  }

  preRequest(_request: InferenceRequest, result: SchedulingResult, _cs: CycleState, requestHeaders: HeaderEdits): void {
    const rank = this.#ranks.get(result);
    if (rank) requestHeaders.set(DATA_PARALLEL_HEADER, rank);
  }
}

export const registration: PluginRegistration = {
  type: DATA_PARALLEL_PROFILE_HANDLER,
  parameters: parametersSchema,
  factory: (name, parameters, handle) => {
    const p = parseParameters(parametersSchema, parameters);
    const port = p.primaryPort || 8000;
    if (port < 1 || port > 65535) throw new ConfigError('parameters.primaryPort', `must be between 1 and 65535, got ${port}`);
    handle.warn(`plugin type "${DATA_PARALLEL_PROFILE_HANDLER}" is deprecated in llm-d; single-profile-handler with Istio >= 1.28.1 replaces it`);
    return new DataParallelProfileHandler(name, port);
  },
};
