/**
 * A series selector as the Go EPP's engine configs write them: `name` or `name{label="value",…}`.
 * A series matches when its name is equal and every listed label has the listed value.
 */
import { ConfigError } from '../../errors.js';
import type { MetricSelector } from '../../framework/datalayer.js';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** `label="value"`, or `label=value` as the Go EPP's built-in specs write it. */
const LABEL = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^",{}=\s]+))\s*$/;

export function parseSelector(text: string, path = 'selector'): MetricSelector {
  const brace = text.indexOf('{');
  const name = (brace < 0 ? text : text.slice(0, brace)).trim();
  if (!NAME.test(name)) throw new ConfigError(path, `invalid metric name in selector "${text}"`);
  if (brace < 0) return { name, labels: [] };
  if (!text.trimEnd().endsWith('}')) throw new ConfigError(path, `selector "${text}" is missing its closing "}"`);
  const body = text.slice(brace + 1, text.trimEnd().length - 1);
  const labels: [string, string][] = [];
  for (const part of body.split(',')) {
    if (part.trim() === '') continue;
    const m = LABEL.exec(part);
    if (!m) throw new ConfigError(path, `invalid label matcher "${part.trim()}" in selector "${text}" (want label=\"value\" or label=value)`);
    labels.push([m[1]!, m[2] ?? m[3]!]);
  }
  return { name, labels };
}
