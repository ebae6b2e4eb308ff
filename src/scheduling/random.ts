import type { RandomSource } from '../framework/plugin.js';

/** The process's randomness in production. */
export const systemRandom: RandomSource = { next: Math.random };

/** A deterministic source (mulberry32) for tests and reproducible benchmarks. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
