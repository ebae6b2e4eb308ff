/** Phase 1: text → a validated RawConfig. Nothing is instantiated here. */
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { endpointPickerConfigSchema, type RawConfig } from './schema.js';
import { parseDuration } from './duration.js';
import { locator, type Locate } from './locate.js';
import { didYouMean } from './did-you-mean.js';

/** `a.b[0].c` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** The keys the schema allows at `path` (an object's fields), for "did you mean" hints. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  type Def = { type: string; innerType?: unknown; element?: unknown; shape?: Record<string, unknown> };
  const defOf = (s: unknown) => (s as { _zod?: { def: Def } } | undefined)?._zod?.def;
  const unwrap = (s: unknown) => {
    while (defOf(s) && ['optional', 'nullable', 'default', 'readonly'].includes(defOf(s)!.type)) s = defOf(s)!.innerType;
    return s;
  };
  let s = unwrap(schema);
  for (const seg of path) {
    const def = defOf(s);
    if (def?.type === 'array') s = unwrap(def.element);
    else if (def?.type === 'object' && typeof seg === 'string') s = unwrap(def.shape?.[seg]);
    else return [];
  }
  const def = defOf(s);
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

/**
 * The schema's issues as one ConfigError: every unknown key (each on its own line with its place and the
 * closest known key), or else the first other problem.
 */
export function issuesToError(schema: z.ZodType, issues: readonly z.core.$ZodIssue[], locate: Locate, origin: string): ConfigError {
  const unknown: { path: string; hint: string }[] = [];
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const at = formatPath(issue.path);
    for (const key of issue.keys) unknown.push({ path: at ? `${at}.${key}` : key, hint: didYouMean(key, knownKeysAt(schema, issue.path)) });
  }
  const where = (path: string) => locate(path) ?? origin;
  const lineOf = (path: string) => Number(/:(\d+)$/.exec(where(path))?.[1] ?? 0);
  unknown.sort((a, b) => lineOf(a.path) - lineOf(b.path));
  if (unknown.length > 0) {
    const [first, ...rest] = unknown;
    const more = rest.map((u) => `\n  ${[where(u.path), u.path].filter(Boolean).join(': ')}: unknown field${u.hint}`).join('');
    return new ConfigError(first!.path, `unknown field${first!.hint}${more}`, where(first!.path));
  }
  const issue = issues[0]!;
  const at = formatPath(issue.path);
  if (issue.code === 'invalid_type' && issue.input === undefined) return new ConfigError(at, 'required field is missing', where(at));
  return new ConfigError(at, issue.message, where(at));
}

export interface ParsedConfig {
  readonly raw: RawConfig;
  /** Config path → `file:line` in the text it came from. */
  readonly locate: Locate;
}

/** `origin` names the text in errors: a file path, `--config-text`, or '' for the built-in default. */
export function parseConfigDocument(text: string, origin = ''): ParsedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = yamlError.linePos?.[0];
    // The yaml library puts the location (and a code excerpt) into its message; ours leads the line instead.
    const message = yamlError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError('', `invalid YAML: ${message}`, pos ? `${origin || 'config'}:${pos.line}:${pos.col}` : origin);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) throw new ConfigError('', 'empty config', origin);
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('', 'the config must be a mapping (an EndpointPickerConfig object)', origin);
  }
  const pluginNames = Array.isArray((value as { plugins?: unknown }).plugins)
    ? ((value as { plugins: unknown[] }).plugins.map((p) => (p && typeof p === 'object' ? ((p as { name?: string; type?: string }).name || (p as { type?: string }).type) : undefined)))
    : [];
  const locate = locator(doc, lines, origin, pluginNames);
  const parsed = endpointPickerConfigSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw issuesToError(endpointPickerConfigSchema, parsed.error.issues, locate, origin);
  try {
    validateDurations(parsed.data);
  } catch (err) {
    throw err instanceof ConfigError ? err.at(locate(err.path) ?? origin) : err;
  }
  return { raw: parsed.data, locate };
}

export function parseConfig(text: string, source = ''): RawConfig {
  return parseConfigDocument(text, source).raw;
}

function validateDurations(raw: RawConfig): void {
  const check = (value: string | undefined, path: string) => {
    if (value !== undefined) parseDuration(value, path);
  };
  check(raw.saturationDetector?.metricsStalenessThreshold, 'saturationDetector.metricsStalenessThreshold');
  check(raw.dataLayer?.crossReplicaSyncInterval, 'dataLayer.crossReplicaSyncInterval');
  check(raw.flowControl?.defaultRequestTTL, 'flowControl.defaultRequestTTL');
  check(raw.flowControl?.noEndpointRequestTTL, 'flowControl.noEndpointRequestTTL');
}
