import { ConfigError } from '../errors.js';

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/**
 * A Kubernetes resource quantity (`1Gi`, `500M`, `1e3`, `1024`, or a plain number) as an integer, rounded
 * up as Quantity.Value() does. A negative or malformed value is a ConfigError naming `path`.
 */
export function parseQuantity(value: string | number | undefined, path: string): number {
  if (value === undefined) return 0;
  let n: number;
  if (typeof value === 'number') {
    n = value;
  } else {
    const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/.exec(value.trim());
    if (!m) throw new ConfigError(path, `invalid quantity "${value}" (want e.g. 1024, 500M, 1Gi)`);
    const base = Number(m[1]);
    n = m[2] ? base * (BINARY[m[2]] ?? DECIMAL[m[2]]!) : m[3] ? base * 10 ** Number(m[3]) : base;
  }
  if (!Number.isFinite(n)) throw new ConfigError(path, `invalid quantity ${JSON.stringify(value)}`);
  if (n < 0) throw new ConfigError(path, `must be non-negative, got ${JSON.stringify(value)}`);
  return Math.ceil(n);
}
