/** The EPP's command-line flags, named as the Go EPP names them (Go flag syntax: see go-flags.ts). */
import { ConfigError } from './errors.js';
import { flagUsage, parseGoFlags, type FlagSpec } from './go-flags.js';
import { compatWarnings, GO_COMPAT_FLAGS } from './go-compat-flags.js';
import { parseByteSize } from './byte-size.js';

function sizeCheck(raw: string): string | undefined {
  try {
    parseByteSize(raw);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

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
  'ha-enable-leader-election': { kind: 'bool', default: 'false', help: 'Leader election on a coordination.k8s.io Lease: only the leader reports ready; standbys keep their data current.' },
  'drain-timeout': { kind: 'duration', default: '30s', help: 'On SIGTERM: readiness goes NOT_SERVING and the lease is released at once; ext_proc keeps serving this long, then stops.' },
  'metrics-endpoint-auth': { kind: 'bool', default: 'true', help: 'Protect /metrics with TokenReview + SubjectAccessReview (get on /metrics), as the Go EPP; only in effect with Kubernetes discovery.' },
  'enable-cert-reload': { kind: 'bool', default: 'false', help: 'Reload tls.crt/tls.key from --cert-path when they change, without dropping open streams.' },
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
  placement: {
    kind: 'string',
    default: 'auto',
    help: 'Where pool-capable scorers run: auto (moved to the worker pool when their measured time exceeds a hand-off), pool or inline; a comma list may set plugins apart, e.g. auto,my-scorer=pool (ours).',
    check: (raw) => (/^\s*((\s*[^=,\s]+\s*=\s*)?(auto|pool|inline)\s*)(,\s*((\s*[^=,\s]+\s*=\s*)?(auto|pool|inline)\s*))*$/.test(raw) ? undefined : `invalid value "${raw}": want auto, pool, inline, or a comma list of them and plugin=placement entries`),
  },
  'pool-batch': { kind: 'bool', default: 'true', help: 'Pooled scoring of requests ready in one event-loop turn shares one worker task (ours; npm run bench:engine measures it).' },
  'parse-offload-bytes': { kind: 'int', default: '131072', help: 'Bodies of at least this many bytes are parsed on a worker thread (ours; see bench/parse-offload.bench.ts).' },
  'max-request-body-bytes': { kind: 'int', default: '10485760', help: 'Request bodies over this many bytes are refused with 413 (ours; the Go EPP has no such flag).' },
  'disable-endpoint-subset-filter': { kind: 'bool', default: 'false', help: 'Ignore the proxy\'s destination-endpoint subset hint: every endpoint of the pool is a candidate.' },
  'grpc-max-recv-msg-size': { kind: 'string', default: '64Mi', help: 'Largest ext_proc message received (e.g. 10MiB, 25MB).', check: sizeCheck },
  'grpc-max-send-msg-size': { kind: 'string', default: '64Mi', help: 'Largest ext_proc message sent (e.g. 10MiB, 25MB).', check: sizeCheck },
  'max-concurrent-streams': { kind: 'int', default: '10000', help: 'Open ext_proc streams at most; one more is answered 503 at once (ours; 0 = no bound).' },
  'stream-idle-timeout': { kind: 'duration', default: '10m', help: 'A stream on which the proxy sends nothing for this long is answered 408 and ended (ours; 0 = no limit).' },
  'grpc-keepalive-time': { kind: 'duration', default: '30s', help: 'The ext_proc server pings an idle proxy connection this often (ours; 0 = never).' },
  'grpc-keepalive-timeout': { kind: 'duration', default: '10s', help: 'A keepalive ping unanswered for this long closes the connection (ours).' },
  'grpc-transport': {
    kind: 'string',
    default: 'http2',
    help: 'How the ext_proc listener speaks gRPC: http2 (node:http2 with the framing written here; far less CPU per request) or grpc-js (the library) (ours).',
    check: (raw) => (raw === 'http2' || raw === 'grpc-js' ? undefined : `invalid value "${raw}": want http2 or grpc-js`),
  },
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
  haEnableLeaderElection: boolean;
  metricsEndpointAuth: boolean;
  enableCertReload: boolean;
  /** Milliseconds. */
  drainTimeout: number;
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
  placement: string;
  poolBatch: boolean;
  verbosity: number;
  disableEndpointSubsetFilter: boolean;
  /** Bytes. */
  grpcMaxRecvMsgSize: number;
  /** Bytes. */
  grpcMaxSendMsgSize: number;
  maxConcurrentStreams: number;
  /** Milliseconds; 0 = no limit. */
  streamIdleTimeout: number;
  /** Milliseconds; 0 = no keepalive pings. */
  grpcKeepaliveTime: number;
  /** Milliseconds. */
  grpcKeepaliveTimeout: number;
  grpcTransport: 'http2' | 'grpc-js';
  /** One line per Go EPP flag given that this EPP accepts but does not implement (logged once at start). */
  ignoredFlags: readonly string[];
  help: boolean;
  /** --version / -version: print the version and exit. */
  version: boolean;
}

const camel = (name: string) => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Ours, plus the Go EPP's flags this EPP accepts without implementing them (ours win on a shared name). */
const ALL_FLAGS: Readonly<Record<string, FlagSpec>> = { ...GO_COMPAT_FLAGS, ...FLAGS };
const IMPLEMENTED: ReadonlySet<string> = new Set(Object.keys(FLAGS));

export function parseArgs(argv: readonly string[]): Options {
  const { values, given, help, version } = parseGoFlags(argv, ALL_FLAGS);
  const out: Record<string, unknown> = { help, version, ignoredFlags: compatWarnings(given, IMPLEMENTED) };
  for (const [name, value] of values) if (IMPLEMENTED.has(name)) out[name === 'v' ? 'verbosity' : camel(name)] = value;
  if (out['workers'] !== 'auto') out['workers'] = Number(out['workers']);
  out['grpcMaxRecvMsgSize'] = parseByteSize(String(out['grpcMaxRecvMsgSize']));
  out['grpcMaxSendMsgSize'] = parseByteSize(String(out['grpcMaxSendMsgSize']));
  const options = out as unknown as Options;
  if (options.configFile && options.configText) throw new ConfigError('', 'only one of --config-file and --config-text may be set');
  if (options.poolName && options.endpointSelector) throw new ConfigError('', 'only one of --pool-name and --endpoint-selector may be set');
  return options;
}

export function usage(): string {
  return flagUsage('epp', ALL_FLAGS);
}
