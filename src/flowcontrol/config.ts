/**
 * The `flowControl:` section → settings for the flow controller, with llm-d's defaulting rules:
 * per-band caps default to 5000 requests and 1 GB, band 0 always exists, unlisted priorities take the
 * `defaultPriorityBand` template (negative ones `defaultNegativePriorityBand` when given), policy refs
 * default to `fcfs-ordering-policy`, `global-strict-fairness-policy` and `static-usage-limit-policy`
 * (instantiated with name = type when the config does not define them), TTLs default to 60s.
 */
import type { Plugin, PluginServices } from '../framework/plugin.js';
import type { Registry } from '../framework/registry.js';
import {
  isFairnessPolicy,
  isOrderingPolicy,
  isUsageLimitPolicy,
  type FairnessPolicy,
  type OrderingPolicy,
  type UsageLimitPolicy,
} from '../framework/flow-control.js';
import type { LoadedConfig, ConfigLogger } from '../config/instantiate.js';
import type { RawConfig } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { ConfigError } from '../errors.js';
import { parseQuantity } from './quantity.js';

export const FLOW_CONTROL_GATE = 'flowControl';
export const DEFAULT_ORDERING_POLICY = 'fcfs-ordering-policy';
export const DEFAULT_FAIRNESS_POLICY = 'global-strict-fairness-policy';
export const DEFAULT_USAGE_LIMIT_POLICY = 'static-usage-limit-policy';
/** Names a config may reference without defining them: the loader supplies them, as llm-d's does. */
export const INJECTED_FLOW_CONTROL_PLUGINS: readonly string[] = [DEFAULT_ORDERING_POLICY, DEFAULT_FAIRNESS_POLICY, DEFAULT_USAGE_LIMIT_POLICY];

export const DEFAULT_BAND_MAX_REQUESTS = 5000;
export const DEFAULT_BAND_MAX_BYTES = 1_000_000_000;
export const DEFAULT_REQUEST_TTL_MS = 60_000;

/**
 * The queue's hard ceiling, whatever the config says: a flood cannot hold more than this many requests
 * or body bytes in the EPP (each waiting request keeps its stream and its body in memory).
 */
export const HARD_MAX_REQUESTS = 50_000;
export const HARD_MAX_BYTES = 1024 * 1024 * 1024;

export interface BandPolicy {
  readonly maxRequests: number;
  readonly maxBytes: number;
  readonly ordering: OrderingPolicy;
  readonly fairness: FairnessPolicy;
}

export interface BandSettings extends BandPolicy {
  readonly priority: number;
}

export interface FlowControlSettings {
  /** Global caps over every band; 0 = none configured (the hard ceiling still applies). */
  readonly maxRequests: number;
  readonly maxBytes: number;
  /** 0 = no TTL eviction while the pool has endpoints. */
  readonly defaultRequestTTLMs: number;
  /** 0 = never evict while the pool is empty. */
  readonly noEndpointRequestTTLMs: number;
  /** Bands that always exist (configured ones and band 0). */
  readonly bands: readonly BandSettings[];
  /** Template for priorities ≥ 0 that no band lists (and for negative ones without their own template). */
  readonly defaultBand: BandPolicy;
  readonly defaultNegativeBand: BandPolicy;
  readonly usageLimit: UsageLimitPolicy;
  readonly enableEviction: boolean;
}

type RawFlowControl = NonNullable<RawConfig['flowControl']>;
type RawBand = NonNullable<RawFlowControl['priorityBands']>[number];

/** Whether the section carries settings beyond the saturation detector (which the legacy path honours). */
export function flowControlSettingsConfigured(fc: RawFlowControl | undefined): boolean {
  if (!fc) return false;
  return (
    fc.maxBytes !== undefined ||
    fc.maxRequests !== undefined ||
    fc.defaultRequestTTL !== undefined ||
    fc.noEndpointRequestTTL !== undefined ||
    fc.defaultPriorityBand !== undefined ||
    fc.defaultNegativePriorityBand !== undefined ||
    (fc.priorityBands?.length ?? 0) > 0 ||
    fc.usageLimitPolicyPluginRef !== undefined ||
    fc.enableEviction !== undefined
  );
}

/**
 * The flow-control settings when the `flowControl` gate is on; undefined (after a warning when the section
 * is set) when it is off, so the legacy admission path runs unchanged.
 */
export function buildFlowControlSettings(config: LoadedConfig, registry: Registry, services: PluginServices, log: ConfigLogger): FlowControlSettings | undefined {
  const raw = config.raw.flowControl;
  if (config.featureGates.get(FLOW_CONTROL_GATE) !== true) {
    if (flowControlSettingsConfigured(raw)) {
      log.warn('the flowControl config section is set but the flowControl feature gate is disabled; its settings (other than saturationDetector) are ignored');
    }
    return undefined;
  }
  const injected = new Map<string, Plugin>();
  const resolve = <T extends Plugin>(name: string, path: string, is: (p: Plugin) => p is T, kind: string): T => {
    let plugin = config.plugins.get(name) ?? injected.get(name);
    if (!plugin && INJECTED_FLOW_CONTROL_PLUGINS.includes(name)) {
      const registration = registry.get(name);
      if (registration) {
        plugin = registration.factory(name, undefined, { warn: log.warn, plugin: (n) => config.plugins.get(n), services });
        injected.set(name, plugin);
      }
    }
    if (!plugin) throw new ConfigError(path, `no plugin named "${name}"`);
    if (!is(plugin)) throw new ConfigError(path, `plugin "${name}" (${plugin.type}) is not ${kind}`);
    return plugin;
  };
  const ordering = (name: string, path: string) => resolve(name, path, isOrderingPolicy, 'an ordering policy');
  const fairness = (name: string, path: string) => resolve(name, path, isFairnessPolicy, 'a fairness policy');

  const baseDefaults: BandPolicy = {
    maxRequests: DEFAULT_BAND_MAX_REQUESTS,
    maxBytes: DEFAULT_BAND_MAX_BYTES,
    ordering: ordering(DEFAULT_ORDERING_POLICY, '(default ordering policy)'),
    fairness: fairness(DEFAULT_FAIRNESS_POLICY, '(default fairness policy)'),
  };
  const band = (b: Partial<RawBand> | undefined, path: string, base: BandPolicy): BandPolicy => ({
    maxRequests: parseQuantity(b?.maxRequests, `${path}.maxRequests`) || base.maxRequests,
    maxBytes: parseQuantity(b?.maxBytes, `${path}.maxBytes`) || base.maxBytes,
    ordering: b?.orderingPolicyRef ? ordering(b.orderingPolicyRef, `${path}.orderingPolicyRef`) : base.ordering,
    fairness: b?.fairnessPolicyRef ? fairness(b.fairnessPolicyRef, `${path}.fairnessPolicyRef`) : base.fairness,
  });
  // Unset fields of a template fall back to llm-d's defaults, not to another template.
  const defaultBand = band(raw?.defaultPriorityBand, 'flowControl.defaultPriorityBand', baseDefaults);
  const defaultNegativeBand = raw?.defaultNegativePriorityBand ? band(raw.defaultNegativePriorityBand, 'flowControl.defaultNegativePriorityBand', baseDefaults) : defaultBand;

  const bands: BandSettings[] = [];
  const seen = new Map<number, number>();
  (raw?.priorityBands ?? []).forEach((b, i) => {
    const path = `flowControl.priorityBands[${i}]`;
    if (seen.has(b.priority)) throw new ConfigError(`${path}.priority`, `duplicate priority level ${b.priority} (also flowControl.priorityBands[${seen.get(b.priority)}])`);
    seen.set(b.priority, i);
    bands.push({ priority: b.priority, ...band(b, path, baseDefaults) });
  });
  if (!seen.has(0)) bands.push({ priority: 0, ...defaultBand });
  bands.sort((a, b) => b.priority - a.priority);

  const ttl = (value: string | undefined, path: string) => (value === undefined ? undefined : parseDuration(value, path));
  const defaultTtl = ttl(raw?.defaultRequestTTL, 'flowControl.defaultRequestTTL');
  const noEndpointTtl = ttl(raw?.noEndpointRequestTTL, 'flowControl.noEndpointRequestTTL');
  const usageRef = raw?.usageLimitPolicyPluginRef || DEFAULT_USAGE_LIMIT_POLICY;
  return {
    maxRequests: parseQuantity(raw?.maxRequests, 'flowControl.maxRequests'),
    maxBytes: parseQuantity(raw?.maxBytes, 'flowControl.maxBytes'),
    defaultRequestTTLMs: defaultTtl ?? DEFAULT_REQUEST_TTL_MS,
    noEndpointRequestTTLMs: noEndpointTtl ?? defaultTtl ?? DEFAULT_REQUEST_TTL_MS,
    bands,
    defaultBand,
    defaultNegativeBand,
    usageLimit: resolve(usageRef, 'flowControl.usageLimitPolicyPluginRef', isUsageLimitPolicy, 'a usage limit policy'),
    enableEviction: raw?.enableEviction ?? false,
  };
}
