/**
 * dcgm-extractor (llm-d): the endpoint's GPU utilization from a DCGM Exporter page, as attribute
 * `GPUUtilization` of producer `dcgm-extractor`: the largest `DCGM_FI_DEV_GPU_UTIL` among the samples of
 * this pod (a DaemonSet exporter labels each sample with `pod`; unlabelled samples count for every pod),
 * divided by 100.
 */
import type { PluginRegistration } from '../../framework/plugin.js';
import type { EndpointMetadata } from '../../framework/endpoint.js';
import { attributeKey, type AttributeExtractor, type PageSample } from '../../framework/datalayer.js';

export const DCGM_EXTRACTOR = 'dcgm-extractor';
export const GPU_UTIL_METRIC = 'DCGM_FI_DEV_GPU_UTIL';
export const GPU_UTILIZATION_KEY = attributeKey('GPUUtilization', DCGM_EXTRACTOR);

/** The pod a sample's `pod` label names is this endpoint's pod (endpoints of a multi-port pod are `<pod>-rank-<n>`). */
function samePod(samplePod: string, endpointName: string): boolean {
  if (samplePod === endpointName) return true;
  const rank = endpointName.lastIndexOf('-rank-');
  return rank > 0 && endpointName.slice(0, rank) === samplePod;
}

export class DcgmExtractor implements AttributeExtractor {
  readonly type = DCGM_EXTRACTOR;
  readonly metricNames = [GPU_UTIL_METRIC];
  readonly produces = [GPU_UTILIZATION_KEY];
  constructor(readonly name: string) {}

  extractAttributes(samples: readonly PageSample[], endpoint: EndpointMetadata): ReadonlyMap<string, unknown> {
    let max = -Infinity;
    let seen = false;
    for (const s of samples) {
      if (s.name !== GPU_UTIL_METRIC) continue;
      seen = true;
      const pod = s.labels.get('pod');
      if (pod !== undefined && endpoint.name !== '' && !samePod(pod, endpoint.name)) continue;
      if (!Number.isFinite(s.value)) throw new Error(`${GPU_UTIL_METRIC} has a non-numeric value for pod "${endpoint.name}"`);
      if (s.value > max) max = s.value;
    }
    if (!seen) throw new Error(`metric ${GPU_UTIL_METRIC} not found in the DCGM page`);
    if (max === -Infinity) throw new Error(`metric ${GPU_UTIL_METRIC} has no sample for pod "${endpoint.name}"`);
    return new Map([[GPU_UTILIZATION_KEY, max / 100]]);
  }
}

export const registration: PluginRegistration = { type: DCGM_EXTRACTOR, takesNoParameters: true, factory: (name) => new DcgmExtractor(name) };
