/**
 * JSON text as Go's `encoding/json.Marshal` writes a value decoded into `any`: object keys sorted (Go
 * maps), no spaces, `<`, `>`, `&`, U+2028 and U+2029 escaped as \u00XX / \u20XX. llm-d's `estimate`
 * backend packs these bytes into pseudo-tokens, so matching them byte for byte keeps block keys equal.
 * Numbers print as ECMAScript does, which is also Go's float64 format for JSON.
 */
const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
const escapeHtml = (s: string) => s.replace(HTML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function write(v: unknown, out: string[]): void {
  if (v === null || v === undefined) {
    out.push('null');
  } else if (typeof v === 'string') {
    out.push(escapeHtml(JSON.stringify(v)));
  } else if (typeof v === 'number') {
    out.push(Number.isFinite(v) ? JSON.stringify(v) : 'null');
  } else if (typeof v === 'boolean') {
    out.push(v ? 'true' : 'false');
  } else if (Array.isArray(v)) {
    out.push('[');
    v.forEach((x, i) => {
      if (i > 0) out.push(',');
      write(x, out);
    });
    out.push(']');
  } else if (typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    // Go sorts map keys by their UTF-8 bytes; for keys this compares code units, equal for the BMP.
    const keys = Object.keys(obj).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    out.push('{');
    keys.forEach((k, i) => {
      if (i > 0) out.push(',');
      out.push(escapeHtml(JSON.stringify(k)), ':');
      write(obj[k], out);
    });
    out.push('}');
  } else {
    out.push('null');
  }
}

export function goJsonMarshal(v: unknown): string {
  const out: string[] = [];
  write(v, out);
  return out.join('');
}
