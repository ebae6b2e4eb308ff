/** Phase 1: text → a validated RawConfig. Nothing is instantiated here. */
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { endpointPickerConfigSchema, type RawConfig } from './schema.js';
import { parseDuration } from './duration.js';

/** `a.b[0].c` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function issueToError(issue: z.core.$ZodIssue, source: string): ConfigError {
  const at = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return new ConfigError(at ? `${at}.${key}` : key, `unknown field${source ? ` (in ${source})` : ''}`);
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return new ConfigError(at, 'required field is missing');
  }
  return new ConfigError(at, issue.message);
}

export function parseConfig(text: string, source = ''): RawConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = yamlError.linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    throw new ConfigError('', `invalid YAML${source ? ` in ${source}` : ''}${where}: ${yamlError.message.split('\n')[0]}`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) throw new ConfigError('', `empty config${source ? ` in ${source}` : ''}`);
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('', 'the config must be a mapping (an EndpointPickerConfig object)');
  }
  const parsed = endpointPickerConfigSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw issueToError(parsed.error.issues[0]!, source);
  validateDurations(parsed.data);
  return parsed.data;
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
