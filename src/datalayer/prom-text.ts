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
      let j = 0; // a loop: names are short, and a native compare call costs more than reading them
      while (j < name.length && page[start + j] === name[j]) j++;
      if (j === name.length) return i;
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
  const series = parseSeries(line, name);
  if (!series) return null;
  const rest = line.slice(series[1]).trim();
  const space = rest.search(/\s/);
  return { name, labels: series[0], value: parseValue(space < 0 ? rest : rest.slice(0, space)) };
}

/**
 * The labels of a sample line that starts with `name`, and where its series ends: after the `}`, or after
 * the space or tab that follows a bare name. Null when malformed. The labels depend on nothing past that
 * point, so a line with the same text up to there has the same series.
 */
function parseSeries(line: string, name: string): [ReadonlyMap<string, string>, number] | null {
  if (line.charCodeAt(name.length) !== 123 /* { */) return [NO_LABELS, name.length + 1];
  const [labels, next] = parseLabels(line, name.length, line.length);
  return next < 0 ? null : [labels, next];
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

/** A series as a page names it: its name and labels, parsed once and kept while its line is unchanged up to the value. */
export class Series {
  /** Whatever a reader derives from name and labels alone (the extractor's selector matches), kept with them. */
  plan: unknown = undefined;
  constructor(
    readonly name: string,
    /** Its name's index in the SampleNames that found it. */
    readonly nameIndex: number,
    readonly labels: ReadonlyMap<string, string>,
    /** The line's bytes up to its value; absent when the series is not kept for the next page. */
    readonly prefix: Buffer | undefined,
  ) {}
}

/** Series kept per scanner (in page order), and the longest line prefix kept: bounds on what one pod can pin. */
export const KEPT_SERIES = 256;
export const KEPT_PREFIX_BYTES = 1024;

/** Whitespace as `String.trim` and `\s` see it, within latin1. */
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13) || c === 160;

/**
 * Reads the wanted samples of one source's successive pages (one scanner per pod). A page is nearly the
 * same text every time, so the k-th wanted line is first compared, as bytes, with the k-th line of the
 * previous page up to its value: when they agree, the series (labels and whatever a reader kept with it)
 * is the same and only the value is read. Everything else parses as `scanSamples` does.
 */
export class SeriesScanner {
  /** The last page's samples in page order: `series[i]` had `values[i]`. */
  readonly series: Series[] = [];
  readonly values: number[] = [];
  /** The last page's malformed wanted lines: `[samples before it, name, first 200 characters]`. */
  readonly bad: [number, string, string][] = [];

  /** The names the kept series were found with (a series knows its name by its index in them). */
  #names: SampleNames | undefined;

  scan(page: Buffer, names: SampleNames): void {
    const { series, values, bad } = this;
    if (names !== this.#names) {
      this.#names = names;
      series.length = 0;
    }
    bad.length = 0;
    let count = 0;
    const length = page.length;
    for (let start = 0; start < length; ) {
      let end = page.indexOf(10, start);
      if (end < 0) end = length;
      const i = names.match(page, start, end);
      if (i >= 0) {
        const kept = count < series.length ? series[count]!.prefix : undefined;
        let s: Series | undefined;
        let valueStart: number;
        // The name's bytes were compared by `match`; the series' name is the same when the index is.
        if (kept !== undefined && series[count]!.nameIndex === i && end - start >= kept.length && sameBytes(page, start, kept, names.names[i]!.length)) {
          s = series[count]!;
          valueStart = start + kept.length;
        } else {
          const name = names.names[i]!;
          const line = page.toString('latin1', start, end);
          const parsed = parseSeries(line, name);
          if (parsed) {
            const [labels, next] = parsed;
            const keep = count < KEPT_SERIES && next <= KEPT_PREFIX_BYTES;
            s = new Series(name, i, labels, keep ? Buffer.from(page.subarray(start, start + next)) : undefined);
            valueStart = start + next;
          } else {
            bad.push([count, name, line.slice(0, 200)]);
            valueStart = 0;
          }
        }
        if (s) {
          series[count] = s;
          values[count] = readValue(page, valueStart, end);
          count++;
        }
      }
      start = end + 1;
    }
    series.length = count;
    values.length = count;
  }
}

/** Whether `page` holds `kept` at `start`, from byte `from` of it on (a loop: short runs cost less than a native compare call). */
function sameBytes(page: Buffer, start: number, kept: Buffer, from: number): boolean {
  for (let j = from; j < kept.length; j++) if (page[start + j] !== kept[j]) return false;
  return true;
}

/** The first whitespace-separated token of `[start, end)` as a sample value (what `parseLine` reads). */
function readValue(page: Buffer, start: number, end: number): number {
  while (start < end && isSpace(page[start]!)) start++;
  let stop = start;
  while (stop < end && !isSpace(page[stop]!)) stop++;
  return decimal(page, start, stop) ?? parseValue(page.toString('latin1', start, stop));
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * A plain decimal (`-12.5`, `0`, at most 15 digits) read from the bytes, or undefined for anything else
 * (exponents, `NaN`, `+Inf`, longer numbers). Exactly `Number(text)`: digits below 2^53 and a power of ten
 * below 10^22 are both exact doubles, so one division rounds as the string conversion does.
 */
function decimal(page: Buffer, start: number, stop: number): number | undefined {
  let i = start;
  const negative = page[i] === 45; /* - */
  if (negative) i++;
  let digits = 0;
  let mantissa = 0;
  let scale = -1;
  for (; i < stop; i++) {
    const c = page[i]!;
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (scale >= 0) scale++;
    } else if (c === 46 /* . */ && scale < 0) {
      scale = 0;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || digits > 15 || scale === 0) return undefined;
  const value = scale > 0 ? mantissa / POWERS_OF_TEN[scale]! : mantissa;
  return negative ? -value : value;
}
