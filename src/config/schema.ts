/**
 * The EndpointPickerConfig schema: the union of the GIE (`inference.networking.x-k8s.io/v1alpha1`) and
 * llm-d-router (`llm-d.ai/v1alpha1`) types. Strict like the Go decoder: an unknown key is an error, except
 * inside a plugin's free-form `parameters`.
 */
import { z } from 'zod';

export const API_VERSIONS = ['inference.networking.x-k8s.io/v1alpha1', 'llm-d.ai/v1alpha1'] as const;

const ref = z.strictObject({ pluginRef: z.string().min(1) });
const duration = z.string();
/** Kubernetes quantities arrive as strings ("1Gi") or plain numbers. */
const quantity = z.union([z.string(), z.number()]);

const pluginSpec = z.strictObject({
  name: z.string().optional(),
  type: z.string().min(1),
  parameters: z.unknown().optional(),
});

const schedulingPlugin = z.strictObject({
  pluginRef: z.string().min(1),
  weight: z.number().optional(),
});

const schedulingProfile = z.strictObject({
  name: z.string(),
  plugins: z.array(schedulingPlugin).optional(),
});

const saturationDetector = z.strictObject({
  pluginRef: z.string().optional(),
  queueDepthThreshold: z.number().int().optional(),
  kvCacheUtilThreshold: z.number().optional(),
  metricsStalenessThreshold: duration.optional(),
});

const dataLayerSource = z.strictObject({
  pluginRef: z.string().min(1),
  extractors: z.array(ref).optional(),
});

const dataLayer = z.strictObject({
  injectDefaults: z.boolean().optional(),
  sources: z.array(dataLayerSource).optional(),
  discovery: ref.optional(),
  peerDiscovery: ref.optional(),
  crossReplicaSyncerPluginRef: z.string().optional(),
  crossReplicaSyncInterval: duration.optional(),
});

const priorityBand = z.strictObject({
  priority: z.number().int(),
  maxBytes: quantity.optional(),
  maxRequests: quantity.optional(),
  fairnessPolicyRef: z.string().optional(),
  orderingPolicyRef: z.string().optional(),
});

const flowControl = z.strictObject({
  maxBytes: quantity.optional(),
  maxRequests: quantity.optional(),
  defaultRequestTTL: duration.optional(),
  noEndpointRequestTTL: duration.optional(),
  defaultPriorityBand: priorityBand.partial({ priority: true }).optional(),
  defaultNegativePriorityBand: priorityBand.partial({ priority: true }).optional(),
  priorityBands: z.array(priorityBand).optional(),
  usageLimitPolicyPluginRef: z.string().optional(),
  saturationDetector: z.strictObject({ pluginRef: z.string().optional() }).optional(),
  enableEviction: z.boolean().optional(),
});

export const endpointPickerConfigSchema = z.strictObject({
  apiVersion: z.enum(API_VERSIONS).optional(),
  kind: z.literal('EndpointPickerConfig').optional(),
  featureGates: z.array(z.string()).optional(),
  plugins: z.array(pluginSpec).optional(),
  schedulingProfiles: z.array(schedulingProfile).optional(),
  saturationDetector: saturationDetector.optional(),
  dataLayer: dataLayer.optional(),
  /** The older GIE spelling of dataLayer. */
  data: z.strictObject({ sources: z.array(dataLayerSource).optional() }).optional(),
  flowControl: flowControl.optional(),
  parser: ref.optional(),
  requestHandler: z.strictObject({ parsers: z.array(ref).optional() }).optional(),
});

export type RawConfig = z.infer<typeof endpointPickerConfigSchema>;
export type RawPluginSpec = z.infer<typeof pluginSpec>;
export type RawSchedulingProfile = z.infer<typeof schedulingProfile>;
