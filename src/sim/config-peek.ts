/**
 * What a simulated pool must look like for a given EPP config, read from the config itself: pods that
 * publish vLLM's KV events where a precise-prefix-cache-producer listens, and pods labelled prefill and
 * decode for a P/D config. Used by `npm start` and the routing lab; the EPP reports a bad config itself.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

type Peek = { plugins?: { type?: string; parameters?: { kvEventsConfig?: { zmqEndpoint?: string; podDiscoveryConfig?: { socketPort?: number } } } }[] } | null;

export interface PoolShape {
  /** The port every pod publishes KV events on (each pod on its own loopback address); undefined: none. */
  readonly kvEventsPort: number | undefined;
  /** True for a P/D config: the first half of the pods serve prefill, the rest decode. */
  readonly disaggregated: boolean;
}

export function poolShapeFor(configFile: string, configText = ''): PoolShape {
  let raw: Peek = null;
  try {
    raw = parseYaml(configText || (configFile ? readFileSync(configFile, 'utf8') : '')) as Peek;
  } catch {
    raw = null;
  }
  const precise = raw?.plugins?.find((p) => p?.type === 'precise-prefix-cache-producer');
  const kvEventsPort = precise && !precise.parameters?.kvEventsConfig?.zmqEndpoint ? precise.parameters?.kvEventsConfig?.podDiscoveryConfig?.socketPort || 5557 : undefined;
  const disaggregated = raw?.plugins?.some((p) => p?.type === 'disagg-profile-handler' || p?.type === 'pd-profile-handler') ?? false;
  return { kvEventsPort, disaggregated };
}

/** The role label of pod `i` of `n` in a P/D pool. */
export const roleLabels = (disaggregated: boolean, n: number) => (i: number): Record<string, string> => (disaggregated ? { 'llm-d.ai/role': i < n / 2 ? 'prefill' : 'decode' } : {});
