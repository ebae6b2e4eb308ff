/**
 * Sizes written as Kubernetes quantities, as the Go EPP's `--grpc-max-*-msg-size` take them: `4194304`,
 * `10Mi`, `10MiB`, `25M`, `25MB` (a trailing B is dropped; binary suffixes Ki/Mi/Gi/Ti, decimal k/K/M/G/T).
 */
const UNITS: Readonly<Record<string, number>> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

export function parseByteSize(raw: string): number {
  const text = raw.trim().replace(/[Bb]$/, '');
  const m = /^(\d+(?:\.\d+)?)([KMGT]i|[kKMGT])?$/.exec(text);
  if (!m) throw new Error(`invalid size "${raw}": want bytes, or a number with Ki, Mi, Gi, k, M or G (e.g. 10MiB)`);
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2] ?? '']!);
  if (!Number.isSafeInteger(bytes) || bytes > 2 ** 31 - 1) throw new Error(`size "${raw}" is too large (at most 2 GiB - 1)`);
  return bytes;
}
