/**
 * Where each scorer runs: inline on the main thread, or on the worker pool. `--placement` asks (a default
 * and per-plugin overrides); the plugin's declaration bounds it (a scorer not `poolCapable` reads
 * main-thread state and always runs inline); `auto` follows measurement: a scorer moves to the pool when
 * its inline time exceeds the measured hand-off, and back when its worker time falls under half of it.
 */
import { ConfigError } from '../errors.js';
import type { SchedulerProfile } from '../framework/scheduling.js';

export type Placement = 'inline' | 'pool' | 'auto';

export interface PlacementPolicy {
  readonly default: Placement;
  /** By plugin name. */
  readonly byPlugin: ReadonlyMap<string, Placement>;
}

export const ALL_INLINE: PlacementPolicy = { default: 'inline', byPlugin: new Map() };
export const AUTO_PLACEMENT: PlacementPolicy = { default: 'auto', byPlugin: new Map() };

const isPlacement = (s: string): s is Placement => s === 'inline' || s === 'pool' || s === 'auto';

/** `auto`, `pool`, `inline`, or a comma list mixing a default with `plugin=placement` entries. */
export function parsePlacement(text: string, flag = '--placement'): PlacementPolicy {
  let fallback: Placement = 'auto';
  const byPlugin = new Map<string, Placement>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? undefined : part.slice(0, eq).trim();
    const value = (eq < 0 ? part : part.slice(eq + 1)).trim();
    if (!isPlacement(value)) throw new ConfigError(flag, `invalid placement "${value}" in "${text}": want inline, pool or auto`);
    if (name === undefined) fallback = value;
    else if (!name) throw new ConfigError(flag, `"${part}" names no plugin`);
    else byPlugin.set(name, value);
  }
  return { default: fallback, byPlugin };
}

export function placementOf(policy: PlacementPolicy, plugin: string): Placement {
  return policy.byPlugin.get(plugin) ?? policy.default;
}

/**
 * Two scorers of one profile that write the same cycle-state key would race when either runs on a worker:
 * a configuration error naming both, found when the scheduler is built.
 */
export function checkCycleStateWriters(profiles: readonly SchedulerProfile[]): void {
  profiles.forEach((profile) => {
    const writer = new Map<string, string>();
    for (const { scorer } of profile.scorers) {
      for (const key of scorer.writes ?? []) {
        const other = writer.get(key);
        if (other !== undefined && other !== scorer.name) {
          throw new ConfigError(
            `schedulingProfiles[name=${profile.name}]`,
            `scorers "${other}" and "${scorer.name}" both write cycle-state key "${key}"; scorers of one profile may run in parallel, so each key needs one writer`,
          );
        }
        writer.set(key, scorer.name);
      }
    }
  });
}
