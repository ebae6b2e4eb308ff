/**
 * Parameters read through a zod object schema: a known key of the wrong type or range is a ConfigError
 * naming it (`parameters.<path>`); unknown keys are dropped (the loader warns about them).
 */
import type { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { paramsOf } from './params.js';

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

export function parseWithSchema<S extends z.ZodType>(schema: S, parameters: unknown): z.output<S> {
  const parsed = schema.safeParse(paramsOf(parameters));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ConfigError(`parameters${pathText(issue.path)}`, issue.message);
}
