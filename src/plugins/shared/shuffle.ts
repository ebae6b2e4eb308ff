import type { RandomSource } from '../../framework/plugin.js';

/** Fisher–Yates shuffle in place, drawing from the injected random source (PluginServices.random). */
export function shuffle<T>(items: T[], random: RandomSource): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}
