/** Lookups over parsed resources: the model a request is rewritten to, and an objective's priority. */
import type { RandomSource } from '../framework/plugin.js';
import type { Resources } from './manifests.js';

/**
 * The model to send instead of `incomingModel`, or undefined when no rule matches. The first rule (in file
 * order) with an exact match wins; its target is drawn by weight (weights as given, a missing one is 1);
 * when every weight is 0 the targets are drawn uniformly.
 */
export function rewriteTarget(resources: Resources, incomingModel: string, random: RandomSource): string | undefined {
  const rule = resources.rewrites.find((r) => r.models.includes(incomingModel));
  if (!rule || rule.targets.length === 0) return undefined;
  const targets = rule.targets;
  const total = targets.reduce((sum, t) => sum + t.weight, 0);
  if (total <= 0) return targets[Math.min(targets.length - 1, Math.floor(random.next() * targets.length))]!.model;
  const x = random.next() * total;
  let cumulative = 0;
  for (const t of targets) {
    cumulative += t.weight;
    if (x < cumulative) return t.model;
  }
  // Only reachable through floating-point rounding at the top end: the last target with a weight.
  return [...targets].reverse().find((t) => t.weight > 0)!.model;
}

/** The objective's priority; 0 when the name is empty or no such InferenceObjective exists. */
export function priorityOf(resources: Resources, objectiveName: string | undefined): number {
  if (!objectiveName) return 0;
  return resources.objectives.get(objectiveName)?.priority ?? 0;
}
