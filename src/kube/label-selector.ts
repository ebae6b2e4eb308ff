/**
 * Kubernetes label selectors (the `--endpoint-selector` syntax): `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`, joined by commas. Parsed once into requirements; `matches` evaluates them
 * the way the API server does, and `format` writes the canonical text sent as `labelSelector=`.
 */
import { ConfigError } from '../errors.js';

export type Requirement =
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | '!exists' };

export type LabelSelector = readonly Requirement[];

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Splits on commas that are not inside parentheses. */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((t) => t.trim());
}

function checkKey(key: string, flag: string): string {
  if (!KEY.test(key)) throw new ConfigError(flag, `invalid label key "${key}"`);
  return key;
}
function checkValue(value: string, flag: string): string {
  if (!VALUE.test(value)) throw new ConfigError(flag, `invalid label value "${value}"`);
  return value;
}

/** Parses a selector; an empty text selects everything. Throws a ConfigError located at `flag`. */
export function parseLabelSelector(text: string, flag = '--endpoint-selector'): LabelSelector {
  if (text.trim() === '') return [];
  const out: Requirement[] = [];
  for (const term of terms(text)) {
    if (term === '') throw new ConfigError(flag, `empty requirement in "${text}"`);
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^(\S+)\s+(in|notin)\s*\((.*)\)$/))) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim(), flag));
      out.push({ key: checkKey(m[1]!, flag), op: m[2] as 'in' | 'notin', values });
    } else if ((m = term.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      out.push({ key: checkKey(m[1]!, flag), op: m[2] === '!=' ? 'notin' : 'in', values: [checkValue(m[3]!, flag)] });
    } else if ((m = term.match(/^!\s*(\S+)$/))) {
      out.push({ key: checkKey(m[1]!, flag), op: '!exists' });
    } else if (/^\S+$/.test(term)) {
      out.push({ key: checkKey(term, flag), op: 'exists' });
    } else {
      throw new ConfigError(flag, `cannot parse requirement "${term}" (want k=v, k!=v, k in (a,b), k notin (a,b), k or !k)`);
    }
  }
  return out;
}

/** A selector of exact matches (an InferencePool's `matchLabels`). */
export const selectorFromLabels = (labels: Readonly<Record<string, string>>): LabelSelector =>
  Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, op: 'in', values: [value] }));

export function matches(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
    }
  });
}

export function formatLabelSelector(selector: LabelSelector): string {
  return selector
    .map((r) => {
      switch (r.op) {
        case 'exists':
          return r.key;
        case '!exists':
          return `!${r.key}`;
        case 'in':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'notin':
          return r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values.join(',')})`;
      }
    })
    .join(',');
}
