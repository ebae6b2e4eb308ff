/**
 * Command-line flags, named as the Go EPP names them, parsed the way Go's flag package does:
 * `--flag=value`, `--flag value`, `-flag value`, booleans as bare `--flag` or `--flag=false`.
 */
import { ConfigError } from './errors.js';
import { parseDuration } from './config/duration.js';

type Kind = 'string' | 'int' | 'bool' | 'duration' | 'workers';

interface FlagSpec {
  readonly kind: Kind;
  readonly default: string;
  readonly help: string;
}

const FLAGS = {
  'config-file': { kind: 'string', default: '', help: 'Path to an EndpointPickerConfig YAML file.' },
  'config-text': { kind: 'string', default: '', help: 'An EndpointPickerConfig as inline YAML (exclusive with --config-file).' },
  'pool-name': { kind: 'string', default: '', help: 'Name of the InferencePool this EPP serves.' },
  'pool-namespace': { kind: 'string', default: 'default', help: 'Namespace of the InferencePool.' },
  'grpc-port': { kind: 'int', default: '9002', help: 'Port of the ext_proc gRPC server.' },
  'grpc-health-port': { kind: 'int', default: '9003', help: 'Port of the gRPC health server.' },
  'metrics-port': { kind: 'int', default: '9090', help: 'Port of the Prometheus /metrics endpoint.' },
  'secure-serving': { kind: 'bool', default: 'true', help: 'Serve ext_proc over TLS (self-signed unless --cert-path).' },
  'cert-path': { kind: 'string', default: '', help: 'Folder holding tls.crt and tls.key.' },
  'refresh-metrics-interval': { kind: 'duration', default: '50ms', help: 'How often each model server is scraped.' },
  'metrics-staleness-threshold': { kind: 'duration', default: '2s', help: 'Metrics older than this mark a pod stale.' },
  workers: { kind: 'workers', default: 'auto', help: 'Scoring worker threads: a number, or auto (0 = everything inline).' },
  'resources-file': { kind: 'string', default: '', help: 'InferenceObjective / InferenceModelRewrite manifests to load without Kubernetes.' },
  v: { kind: 'int', default: '0', help: 'Log verbosity (0 info, 1+ debug).' },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAGS;

export interface Options {
  configFile: string;
  configText: string;
  poolName: string;
  poolNamespace: string;
  grpcPort: number;
  grpcHealthPort: number;
  metricsPort: number;
  secureServing: boolean;
  certPath: string;
  /** Milliseconds. */
  refreshMetricsInterval: number;
  /** Milliseconds. */
  metricsStalenessThreshold: number;
  /** 'auto' or a worker count (0 = inline). */
  workers: number | 'auto';
  resourcesFile: string;
  verbosity: number;
  help: boolean;
}

function convert(name: string, spec: FlagSpec, raw: string): string | number | boolean {
  const path = `--${name}`;
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^\d+$/.test(raw)) throw new ConfigError(path, `invalid value "${raw}": want a non-negative integer`);
      return Number(raw);
    }
    case 'bool': {
      if (['true', '1', 't', 'T', 'TRUE', 'True'].includes(raw)) return true;
      if (['false', '0', 'f', 'F', 'FALSE', 'False'].includes(raw)) return false;
      throw new ConfigError(path, `invalid boolean "${raw}"`);
    }
    case 'duration':
      return parseDuration(raw, path);
    case 'workers': {
      if (raw === 'auto') return raw;
      if (!/^\d+$/.test(raw)) throw new ConfigError(path, `invalid value "${raw}": want a number of workers or "auto"`);
      return Number(raw);
    }
  }
}

const camel = (name: string) => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

export function parseArgs(argv: readonly string[]): Options {
  const values = new Map<string, string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      throw new ConfigError('', `unexpected argument "${arg}" (flags only; see --help)`);
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (name === 'help' || name === 'h') {
      help = true;
      continue;
    }
    const spec = (FLAGS as Record<string, FlagSpec>)[name];
    if (!spec) throw new ConfigError('', `flag provided but not defined: -${name}`);
    if (eq >= 0) {
      values.set(name, body.slice(eq + 1));
    } else if (spec.kind === 'bool') {
      values.set(name, 'true');
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(`--${name}`, 'flag needs an argument');
      values.set(name, next);
      i++;
    }
  }
  const out: Record<string, unknown> = { help };
  for (const [name, spec] of Object.entries(FLAGS) as [string, FlagSpec][]) {
    out[name === 'v' ? 'verbosity' : camel(name)] = convert(name, spec, values.get(name) ?? spec.default);
  }
  const options = out as unknown as Options;
  if (options.configFile && options.configText) {
    throw new ConfigError('', 'only one of --config-file and --config-text may be set');
  }
  return options;
}

export function usage(): string {
  const lines = Object.entries(FLAGS).map(([name, spec]) => `  --${name.padEnd(28)} ${spec.help} (default ${JSON.stringify(spec.default)})`);
  return `Usage: epp [flags]\n${lines.join('\n')}\n`;
}
