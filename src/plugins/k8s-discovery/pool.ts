/**
 * What the EPP reads from Kubernetes objects: an InferencePool's selector and target ports (the v1 shape
 * and the older v1alpha2 one), and which endpoints a pod contributes.
 */
import type { EndpointMetadata } from '../../framework/endpoint.js';
import type { KubeObject } from '../../kube/reflector.js';
import { selectorFromLabels, type LabelSelector } from '../../kube/label-selector.js';

export const POOL_GROUP_V1 = 'inference.networking.k8s.io';
export const POOL_GROUP_V1ALPHA2 = 'inference.networking.x-k8s.io';

/** The API version served for a pool group: v1 for the GA group, v1alpha2 for the experimental one. */
export function poolVersion(group: string): string {
  return group === POOL_GROUP_V1ALPHA2 ? 'v1alpha2' : 'v1';
}

export interface PoolSpec {
  readonly selector: LabelSelector;
  /** Target ports in the pool's order; an endpoint's rank is its index here. */
  readonly targetPorts: readonly number[];
}

export interface PoolObject extends KubeObject {
  spec?: {
    /** v1: `{matchLabels: {...}}`; v1alpha2: the labels themselves. */
    selector?: { matchLabels?: Record<string, string> } | Record<string, string>;
    /** v1 */
    targetPorts?: { number?: number }[];
    /** v1alpha2 */
    targetPortNumber?: number;
  };
}

const isPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65536;

/** The pool's selector and ports, or a reason it cannot be used. Both shapes are read whatever the group. */
export function poolSpecOf(pool: PoolObject): PoolSpec | string {
  const spec = pool.spec ?? {};
  const raw = spec.selector ?? {};
  const labels: Record<string, string> =
    'matchLabels' in raw && typeof raw.matchLabels === 'object' && raw.matchLabels !== null ? (raw.matchLabels as Record<string, string>) : (raw as Record<string, string>);
  if (Object.values(labels).some((v) => typeof v !== 'string')) return 'spec.selector has a non-string label value';
  if (Object.keys(labels).length === 0) return 'spec.selector selects nothing (no labels)';
  const ports = spec.targetPorts ? spec.targetPorts.map((p) => p?.number) : spec.targetPortNumber !== undefined ? [spec.targetPortNumber] : [];
  if (ports.length === 0) return 'spec.targetPorts is empty';
  const bad = ports.find((p) => !isPort(p));
  if (bad !== undefined || ports.some((p) => !isPort(p))) return `spec.targetPorts has an invalid port ${JSON.stringify(bad)}`;
  return { selector: selectorFromLabels(labels), targetPorts: [...new Set(ports as number[])] };
}

export interface PodObject extends KubeObject {
  status?: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    conditions?: { type?: string; status?: string }[];
  };
}

/** Running, Ready and not being deleted, with an IP: the pods that may take traffic. */
export function podServes(pod: PodObject): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const s = pod.status;
  if (!s || s.phase !== 'Running' || !s.podIP) return false;
  return s.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Per-pod opt-out of some target ports, as the Go EPP reads it (llm-d first, the older GIE key second). */
const ACTIVE_PORTS = ['llm-d.ai/active-ports', 'inference.networking.k8s.io/active-ports'];

function activePorts(pod: PodObject, targetPorts: readonly number[]): Set<number> {
  const annotations = pod.metadata?.annotations ?? {};
  const text = ACTIVE_PORTS.map((k) => annotations[k]).find((v) => v !== undefined);
  if (text === undefined) return new Set(targetPorts);
  const wanted = new Set(text.split(',').map((p) => Number.parseInt(p.trim(), 10)));
  return new Set(targetPorts.filter((p) => wanted.has(p)));
}

/** One endpoint per (active) target port, named `<pod>-rank-<i>` as the Go EPP names them. */
export function endpointsOf(pod: PodObject, targetPorts: readonly number[]): EndpointMetadata[] {
  if (!podServes(pod)) return [];
  const name = pod.metadata?.name ?? '';
  const namespace = pod.metadata?.namespace ?? 'default';
  const active = activePorts(pod, targetPorts);
  const labels = { ...(pod.metadata?.labels ?? {}) };
  const out: EndpointMetadata[] = [];
  targetPorts.forEach((port, rank) => {
    if (!active.has(port)) return;
    const hostIP = pod.status!.hostIP;
    out.push({ name: `${name}-rank-${rank}`, namespace, address: pod.status!.podIP!, port, labels, ...(hostIP ? { nodeAddress: hostIP } : {}) });
  });
  return out;
}
