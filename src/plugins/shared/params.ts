/**
 * Reading plugin parameters the same way everywhere. Unknown keys are ignored (the Go EPP ignores them);
 * a known key of the wrong type or range is a ConfigError whose path names it: `parameters.<key>`.
 */
import { ConfigError } from '../../errors.js';

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
