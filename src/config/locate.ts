/**
 * Config paths (`plugins[1].parameters.hashBlockSize`) → where they are in the user's YAML text
 * (`my-config.yaml:7`), so every config error and warning can name the file and the line.
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/** `plugins[1].parameters.x` → ['plugins', 1, 'parameters', 'x']. */
export function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/** `file:line` for a path; the file alone when the path is not in the text; undefined for the built-in default. */
export type Locate = (path: string | readonly (string | number)[]) => string | undefined;

export function locator(doc: Document, lines: LineCounter, origin: string, pluginNames: readonly (string | undefined)[] = []): Locate {
  const lineOf = (node: { range?: readonly number[] | null } | null | undefined) => (node?.range ? lines.linePos(node.range[0]!).line : undefined);
  return (path) => {
    if (!origin) return undefined;
    let segments = typeof path === 'string' ? pathSegments(path) : [...path];
    // `plugin "name"` (a plugin's own error) → its entry under plugins.
    const named = typeof path === 'string' ? /^plugin "([^"]+)"/.exec(path) : null;
    if (named) {
      const i = pluginNames.indexOf(named[1]);
      segments = i >= 0 ? ['plugins', i] : [];
    }
    let node: unknown = doc.contents;
    let line: number | undefined;
    for (const seg of segments) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
        if (!pair) break;
        line = lineOf(pair.key as Node) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
        node = node.items[seg];
        line = lineOf(node as Node) ?? line;
      } else break;
    }
    return line === undefined ? origin : `${origin}:${line}`;
  };
}
