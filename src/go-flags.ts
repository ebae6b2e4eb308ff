/**
 * Command-line flags parsed the way Go's flag package does: `--flag=value`, `--flag value`, `-flag value`,
 * booleans as bare `--flag` or `--flag=false`, durations as `50ms`. Shared by the EPP and the simulator.
 */
import { ConfigError } from './errors.js';
import { parseDuration } from './config/duration.js';
import { didYouMean } from './config/did-you-mean.js';

export type FlagKind = 'string' | 'int' | 'bool' | 'duration';

export interface FlagSpec {
  readonly kind: FlagKind;
  readonly default: string;
  readonly help: string;
  /** Extra check on the converted value; returns an error message or undefined. */
  readonly check?: (raw: string) => string | undefined;
}

export type FlagValue = string | number | boolean;

function convert(name: string, spec: FlagSpec, raw: string): FlagValue {
  const path = `--${name}`;
  const problem = spec.check?.(raw);
  if (problem) throw new ConfigError(path, problem);
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'int':
      if (!/^\d+$/.test(raw)) throw new ConfigError(path, `invalid value "${raw}": want a non-negative integer`);
      return Number(raw);
    case 'bool':
      if (['true', '1', 't', 'T', 'TRUE', 'True'].includes(raw)) return true;
      if (['false', '0', 'f', 'F', 'FALSE', 'False'].includes(raw)) return false;
      throw new ConfigError(path, `invalid boolean "${raw}"`);
    case 'duration':
      return parseDuration(raw, path);
  }
}

/** Every flag's value (given or default), by flag name, the raw values given, and whether help or the version was asked for. */
export function parseGoFlags(argv: readonly string[], flags: Readonly<Record<string, FlagSpec>>): { values: Map<string, FlagValue>; given: ReadonlyMap<string, string>; help: boolean; version: boolean } {
  const given = new Map<string, string>();
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') throw new ConfigError('', `unexpected argument "${arg}" (flags only; see --help)`);
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (name === 'help' || name === 'h') {
      help = true;
      continue;
    }
    if (name === 'version' && !flags[name]) {
      version = true;
      continue;
    }
    const spec = flags[name];
    if (!spec) throw new ConfigError('', `flag provided but not defined: -${name}${didYouMean(name, Object.keys(flags), (f) => `--${f}`)}`);
    if (eq >= 0) given.set(name, body.slice(eq + 1));
    else if (spec.kind === 'bool') given.set(name, 'true');
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(`--${name}`, 'flag needs an argument');
      given.set(name, next);
      i++;
    }
  }
  const values = new Map<string, FlagValue>();
  for (const [name, spec] of Object.entries(flags)) values.set(name, convert(name, spec, given.get(name) ?? spec.default));
  return { values, given, help, version };
}

export function flagUsage(command: string, flags: Readonly<Record<string, FlagSpec>>): string {
  const lines = Object.entries(flags).map(([name, spec]) => `  --${name.padEnd(28)} ${spec.help} (default ${JSON.stringify(spec.default)})`);
  lines.push(`  --${'help'.padEnd(28)} Print this list.`, `  --${'version'.padEnd(28)} Print the version.`);
  return `Usage: ${command} [flags]\n${lines.join('\n')}\n`;
}
