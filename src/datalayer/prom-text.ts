/**
 * Just enough of the Prometheus text format to read chosen series cheaply: a caller asks for a few
 * metric names and only those lines are parsed; every other line costs a few prefix comparisons.
 */

export interface Sample {
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  /** NaN when the text held NaN or something unparsable. */
  readonly value: number;
}

const NO_LABELS: ReadonlyMap<string, string> = new Map();

function parseValue(token: string): number {
  switch (token) {
    case '+Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    default:
      return token === '' ? NaN : Number(token);
  }
}

/** Parses `{a="x",b="y\"z"}` starting at `start` (the `{`); returns the labels and the index after `}`, or -1. */
function parseLabels(text: string, start: number, end: number): [Map<string, string>, number] {
  const labels = new Map<string, string>();
  let i = start + 1;
  while (i < end) {
    while (i < end && (text[i] === ' ' || text[i] === ',')) i++;
    if (text[i] === '}') return [labels, i + 1];
    const eq = text.indexOf('=', i);
    if (eq < 0 || eq >= end || text[eq + 1] !== '"') return [labels, -1];
    const key = text.slice(i, eq).trim();
    let j = eq + 2;
    while (j < end && text.charCodeAt(j) !== 34 /* " */ && text.charCodeAt(j) !== 92 /* \\ */) j++;
    let value: string;
    if (j < end && text.charCodeAt(j) === 34) {
      value = text.slice(eq + 2, j); // no escapes: one slice, no per-character strings
    } else {
      value = text.slice(eq + 2, j);
      for (; j < end && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < end) {
          j++;
          value += text[j] === 'n' ? '\n' : text[j];
        } else {
          value += text[j];
        }
      }
    }
    if (j >= end) return [labels, -1];
    labels.set(key, value);
    i = j + 1;
  }
  return [labels, -1];
}

/**
 * A set of metric names, matched against the start of a line without decoding it. Most lines of a page
 * are histogram buckets nobody reads, so the names are told apart by the byte at one chosen offset (the
 * one that splits them best, e.g. the letter after `vllm:`): a line whose byte there starts no wanted
 * name is rejected after one read, and a 48 KB page costs little more than its newline search.
 */
export class SampleNames {
  readonly names: readonly string[];
  readonly #bytes: readonly Buffer[];
  readonly #offset: number;
  /** Byte at `#offset` → indices of the names that have it there. */
  readonly #byByte: (number[] | undefined)[] = new Array(256).fill(undefined);

  constructor(names: Iterable<string>) {
    this.names = [...new Set(names)].filter((n) => n.length > 0);
    this.#bytes = this.names.map((n) => Buffer.from(n, 'latin1'));
    this.#offset = bestOffset(this.#bytes);
    this.#bytes.forEach((name, i) => (this.#byByte[name[this.#offset]!] ??= []).push(i));
  }

  /** Index of the name the line `[start, end)` is a sample of, or -1. */
  match(page: Buffer, start: number, end: number): number {
    if (start + this.#offset >= end) return -1;
    const candidates = this.#byByte[page[start + this.#offset]!];
    if (candidates === undefined) return -1;
    for (const i of candidates) {
      const name = this.#bytes[i]!;
      const after = start + name.length;
      if (after >= end) continue;
      const c = page[after];
      if (c !== 123 /* { */ && c !== 32 /* space */ && c !== 9 /* tab */) continue;
      if (page.compare(name, 0, name.length, start, after) === 0) return i;
    }
    return -1;
  }
}

/** The offset (within the shortest name) whose byte gives the smallest largest group of names. */
function bestOffset(names: readonly Buffer[]): number {
  if (names.length === 0) return 0;
  const shortest = Math.min(...names.map((n) => n.length));
  let best = 0;
  let bestWorst = Infinity;
  for (let offset = 0; offset < shortest; offset++) {
    const groups = new Map<number, number>();
    for (const n of names) groups.set(n[offset]!, (groups.get(n[offset]!) ?? 0) + 1);
    const worst = Math.max(...groups.values());
    if (worst < bestWorst) [best, bestWorst] = [offset, worst];
  }
  return best;
}

/** Parses one sample line that starts with `name` and a label set, space or tab; null when malformed. */
function parseLine(line: string, name: string): Sample | null {
  let labels: ReadonlyMap<string, string> = NO_LABELS;
  let valueStart = name.length;
  if (line.charCodeAt(name.length) === 123 /* { */) {
    const [parsed, next] = parseLabels(line, name.length, line.length);
    if (next < 0) return null;
    labels = parsed;
    valueStart = next;
  }
  const rest = line.slice(valueStart).trim();
  const space = rest.search(/\s/);
  return { name, labels, value: parseValue(space < 0 ? rest : rest.slice(0, space)) };
}

/**
 * Calls `onSample` for every sample whose metric name is in `names`, in page order. Only wanted lines
 * become strings. Malformed wanted lines are reported through `onBadLine` and skipped; the rest of the
 * page still counts.
 */
export function scanSamples(
  page: Buffer,
  names: SampleNames,
  onSample: (s: Sample) => void,
  onBadLine: (name: string, line: string) => void,
): void {
  const length = page.length;
  for (let start = 0; start < length; ) {
    let end = page.indexOf(10, start);
    if (end < 0) end = length;
    const i = names.match(page, start, end);
    if (i >= 0) {
      const name = names.names[i]!;
      const line = page.toString('latin1', start, end);
      const sample = parseLine(line, name);
      if (sample) onSample(sample);
      else onBadLine(name, line.slice(0, 200));
    }
    start = end + 1;
  }
}
