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
    let value = '';
    let j = eq + 2;
    for (; j < end && text[j] !== '"'; j++) {
      if (text[j] === '\\' && j + 1 < end) {
        j++;
        value += text[j] === 'n' ? '\n' : text[j];
      } else {
        value += text[j];
      }
    }
    if (j >= end) return [labels, -1];
    labels.set(key, value);
    i = j + 1;
  }
  return [labels, -1];
}

/**
 * Calls `onSample` for every sample whose metric name is in `names`. Malformed wanted lines are reported
 * through `onBadLine` and skipped; the rest of the page still counts.
 */
export function scanSamples(
  text: string,
  names: readonly string[],
  onSample: (s: Sample) => void,
  onBadLine: (name: string, line: string) => void,
): void {
  const length = text.length;
  let pos = 0;
  while (pos < length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = length;
    if (text.charCodeAt(pos) !== 35 /* # */) {
      for (const name of names) {
        if (!text.startsWith(name, pos)) continue;
        const after = pos + name.length;
        const c = text[after];
        if (c !== '{' && c !== ' ' && c !== '\t') continue;
        let labels: ReadonlyMap<string, string> = NO_LABELS;
        let valueStart = after;
        if (c === '{') {
          const [parsed, next] = parseLabels(text, after, end);
          if (next < 0) {
            onBadLine(name, text.slice(pos, Math.min(end, pos + 200)));
            break;
          }
          labels = parsed;
          valueStart = next;
        }
        const rest = text.slice(valueStart, end).trim();
        const space = rest.search(/\s/);
        onSample({ name, labels, value: parseValue(space < 0 ? rest : rest.slice(0, space)) });
        break;
      }
    }
    pos = end + 1;
  }
}
