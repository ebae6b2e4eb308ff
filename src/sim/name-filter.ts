/**
 * prometheus_client's `?name[]=` filter, which vLLM and SGLang inherit by serving /metrics with its ASGI
 * app: only samples whose name is listed are written, with their family's HELP and TYPE lines; a family
 * with no sample left is left out. No `name[]` means the whole page.
 */

/** The `name[]` values of a request target such as `/metrics?name[]=a&name%5B%5D=b`. */
export function requestedNames(target: string): string[] {
  const q = target.indexOf('?');
  return q < 0 ? [] : new URLSearchParams(target.slice(q + 1)).getAll('name[]');
}

export function restrictToNames(page: string, names: readonly string[]): string {
  if (names.length === 0) return page;
  const wanted = new Set(names);
  const out: string[] = [];
  // The current family's HELP / TYPE lines, written before its first kept sample.
  let family = '';
  let meta: string[] = [];
  for (const line of page.split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      const name = line.split(' ', 3)[2]!;
      if (name !== family) [family, meta] = [name, []];
      meta.push(line);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const end = line.search(/[{ ]/);
    if (!wanted.has(end < 0 ? line : line.slice(0, end))) continue;
    out.push(...meta, line);
    meta = [];
  }
  return out.length ? out.join('\n') + '\n' : '';
}
