/**
 * "Did you mean …?" for misspelled names (flags, config keys, plugin types, plugin parameters): the known
 * names closest to what was typed, by edit distance (a swap of two neighbours counts as one edit), case
 * ignored. A name is close when at most a quarter of it (at least one character) differs, or when one
 * name contains the other.
 */

function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/** The known names close to `typed`, closest first (at most `limit`). */
export function closestNames(typed: string, known: Iterable<string>, limit = 3): string[] {
  const t = typed.toLowerCase();
  const scored: [string, number][] = [];
  for (const name of known) {
    const n = name.toLowerCase();
    if (n === t) {
      scored.push([name, 0]);
      continue;
    }
    const d = distance(t, n);
    const contains = t.length >= 3 && n.length >= 3 && (n.includes(t) || t.includes(n));
    if (d <= Math.max(1, Math.floor(Math.max(t.length, n.length) / 4)) || contains) scored.push([name, contains ? Math.min(d, 2.5) : d]);
  }
  return scored.sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).slice(0, limit).map(([name]) => name);
}

/** ` (did you mean "x"?)`, ` (did you mean "x" or "y"?)`, or '' when nothing is close. */
export function didYouMean(typed: string, known: Iterable<string>, quote = (s: string) => `"${s}"`): string {
  const close = closestNames(typed, known);
  if (close.length === 0) return '';
  const listed = close.map(quote);
  const last = listed.pop()!;
  return ` (did you mean ${listed.length ? `${listed.join(', ')} or ${last}` : last}?)`;
}
