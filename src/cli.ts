/** The EPP's command-line flags, named as the Go EPP names them (Go flag syntax: see go-flags.ts). */
import { ConfigError } from './errors.js';
import { flagUsage, parseGoFlags, type FlagSpec } from './go-flags.js';

const FLAGS = {
  'config-file': { kind: 'string', default: '', help: 'Path to an EndpointPickerConfig YAML file.' },
  'config-text': { kind: 'string', default: '', help: 'An EndpointPickerConfig as inline YAML (exclusive with --config-file).' },
  'pool-name': { kind: 'string', default: '', help: 'Name of the InferencePool this EPP serves.' },
  'pool-namespace': { kind: 'string', default: 'default', help: 'Namespace of the InferencePool.' },
  'pool-group': { kind: 'string', default: 'inference.networking.k8s.io', help: 'API group of the InferencePool: inference.networking.k8s.io (v1) or inference.networking.x-k8s.io (v1alpha2).' },
  'endpoint-selector': { kind: 'string', default: '', help: 'Standalone mode (no InferencePool): label selector of the model server pods, e.g. app=vllm,env in (prod).' },
  'endpoint-target-ports': {
    kind: 'string',
    default: '',
    help: 'Standalone mode: target ports of the model server pods, comma-separated (e.g. 8000,8001).',
    check: (raw) => (raw === '' || /^\d+(,\d+)*$/.test(raw) ? undefined : `invalid value "${raw}": want comma-separated port numbers without spaces`),
  },
  kubeconfig: { kind: 'string', default: '', help: 'Kubernetes client configuration (default: $KUBECONFIG, the in-cluster service account, ~/.kube/config).' },
  'grpc-port': { kind: 'int', default: '9002', help: 'Port of the ext_proc gRPC server.' },
  'grpc-health-port': { kind: 'int', default: '9003', help: 'Port of the gRPC health server.' },
  'metrics-port': { kind: 'int', default: '9090', help: 'Port of the Prometheus /metrics endpoint.' },
  'secure-serving': { kind: 'bool', default: 'true', help: 'Serve ext_proc over TLS (self-signed unless --cert-path).' },
  'cert-path': { kind: 'string', default: '', help: 'Folder holding tls.crt and tls.key.' },
  'refresh-metrics-interval': { kind: 'duration', default: '50ms', help: 'How often each model server is scraped.' },
  'metrics-staleness-threshold': { kind: 'duration', default: '2s', help: 'Metrics older than this mark a pod stale.' },
  workers: {
    kind: 'string',
    default: 'auto',
    help: 'Threads of the worker pool (large bodies, plugins\' worker tasks): a number, or auto (one per core beyond two; one per core but one when a plugin runs worker tasks); 0 = everything inline.',
    check: (raw) => (raw === 'auto' || /^\d+$/.test(raw) ? undefined : `invalid value "${raw}": want a number of workers or "auto"`),
  },
  'parse-offload-bytes': { kind: 'int', default: '131072', help: 'Bodies of at least this many bytes are parsed on a worker thread (ours; see bench/parse-offload.bench.ts).' },
  'max-request-body-bytes': { kind: 'int', default: '10485760', help: 'Request bodies over this many bytes are refused with 413 (ours; the Go EPP has no such flag).' },
  'resources-file': { kind: 'string', default: '', help: 'InferenceObjective / InferenceModelRewrite manifests to load without Kubernetes.' },
  v: { kind: 'int', default: '0', help: 'Log verbosity (0 info, 1+ debug).' },
} as const satisfies Record<string, FlagSpec>;

export interface Options {
  configFile: string;
  configText: string;
  poolName: string;
  poolNamespace: string;
  poolGroup: string;
  endpointSelector: string;
  /** Comma-separated ports, as given. */
  endpointTargetPorts: string;
  kubeconfig: string;
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
  maxRequestBodyBytes: number;
  parseOffloadBytes: number;
  verbosity: number;
  help: boolean;
}

const camel = (name: string) => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

export function parseArgs(argv: readonly string[]): Options {
  const { values, help } = parseGoFlags(argv, FLAGS);
  const out: Record<string, unknown> = { help };
  for (const [name, value] of values) out[name === 'v' ? 'verbosity' : camel(name)] = value;
  if (out['workers'] !== 'auto') out['workers'] = Number(out['workers']);
  const options = out as unknown as Options;
  if (options.configFile && options.configText) throw new ConfigError('', 'only one of --config-file and --config-text may be set');
  if (options.poolName && options.endpointSelector) throw new ConfigError('', 'only one of --pool-name and --endpoint-selector may be set');
  return options;
}

export function usage(): string {
  return flagUsage('epp', FLAGS);
}
