import { ConfigError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a Go duration (`50ms`, `2s`, `1m30s`, `1.5h`) into milliseconds. `path` names the flag or field
 * in the error.
 */
export function parseDuration(text: string, path: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) {
    throw new ConfigError(path, `invalid duration "${text}" (want e.g. 50ms, 2s, 1m30s)`);
  }
  return total;
}
