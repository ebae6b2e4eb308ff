/**
 * Reading plugin parameters the same way everywhere. A plugin declares its parameters as a zod object
 * schema (`registration.parameters`, built from the pieces in `param` below) and reads them with
 * `parseParameters`: a known key of the wrong type or range is a ConfigError whose path names it
 * (`parameters.<key>`); unknown keys are dropped here, and the config loader warns about each, with the
 * closest known name. The single-key readers further down predate the schemas.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';

/** Schema pieces whose messages read well after the key: "must be a positive integer, got 0". Null counts as absent. */
export const param = {
  positiveInt: () => z.number({ error: 'must be a positive integer' }).int({ error: 'must be a positive integer' }).positive({ error: 'must be a positive integer' }).nullish(),
  nonNegativeInt: () => z.number({ error: 'must be a non-negative integer' }).int({ error: 'must be a non-negative integer' }).nonnegative({ error: 'must be a non-negative integer' }).nullish(),
  positiveNumber: () => z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }).refine(Number.isFinite, { error: 'must be a positive number' }).nullish(),
  bool: () => z.boolean({ error: 'must be true or false' }).nullish(),
  string: () => z.string({ error: 'must be a string' }).nullish(),
};

/** A plugin's parameter schema. */
export type ParameterSchema = z.ZodObject;

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

/** Validates `parameters` (undefined/null = none) against the plugin's schema; unknown keys are dropped. */
export function parseParameters<S extends ParameterSchema>(schema: S, parameters: unknown): z.output<S> {
  const parsed = schema.safeParse(paramsOf(parameters), { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const got = issue.input === undefined ? '' : `, got ${JSON.stringify(issue.input)}`;
  throw new ConfigError(`parameters${pathText(issue.path)}`, `${issue.message}${got}`);
}

export type Params = Readonly<Record<string, unknown>>;

/** The parameters object, or an empty one; anything but an object is an error. */
export function paramsOf(parameters: unknown): Params {
  if (parameters === undefined || parameters === null) return {};
  if (typeof parameters !== 'object' || Array.isArray(parameters)) {
    throw new ConfigError('parameters', `must be an object, got ${JSON.stringify(parameters)}`);
  }
  return parameters as Params;
}

function fail(key: string, want: string, got: unknown): never {
  throw new ConfigError(`parameters.${key}`, `must be ${want}, got ${JSON.stringify(got)}`);
}

export function positiveInt(p: Params, key: string, fallback: number): number {
  const v = p[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(key, 'a positive integer', v);
  return v;
}

export function nonNegativeInt(p: Params, key: string, fallback: number): number {
  const v = p[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(key, 'a non-negative integer', v);
  return v;
}

export function positiveNumber(p: Params, key: string, fallback: number): number {
  const v = p[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(key, 'a positive number', v);
  return v;
}

export function bool(p: Params, key: string, fallback: boolean): boolean {
  const v = p[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') fail(key, 'true or false', v);
  return v;
}
