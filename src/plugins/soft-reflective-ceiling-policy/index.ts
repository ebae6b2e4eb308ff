/**
 * soft-reflective-ceiling-policy: the top band is never held back; band i of N is held back once the
 * saturation s reaches 1 − i·s/(N−1), and in the band between it is let through on one cycle in
 * round(s/(1−s)), so low priorities slow down smoothly instead of stopping at a cliff.
 */
import type { PluginRegistration } from '../../framework/plugin.js';
import type { UsageLimitPolicy } from '../../framework/flow-control.js';

export const SOFT_REFLECTIVE_CEILING_POLICY = 'soft-reflective-ceiling-policy';

export class SoftReflectiveCeilingPolicy implements UsageLimitPolicy {
  readonly type = SOFT_REFLECTIVE_CEILING_POLICY;
  #tick = 0;
  constructor(readonly name: string) {}

  computeLimit(s: number, priorities: readonly number[], ceilings: number[]): void {
    const n = priorities.length;
    if (n === 0) return;
    if (n === 1) {
      ceilings[0] = 1;
      return;
    }
    let open = false;
    if (s >= 1 - s && s < 1) {
      const period = Math.max(1, Math.round(s / (1 - s + 1e-9)));
      open = ++this.#tick % period === 0;
    }
    ceilings[0] = 1;
    for (let i = 1; i < n; i++) {
      const reflective = 1 - (i * s) / (n - 1);
      ceilings[i] = s < reflective ? 1 : s >= 1 ? 0 : open ? 1 : 0;
    }
  }
}

export const registration: PluginRegistration = {
  type: SOFT_REFLECTIVE_CEILING_POLICY,
  takesNoParameters: true,
  factory: (name) => new SoftReflectiveCeilingPolicy(name),
};
