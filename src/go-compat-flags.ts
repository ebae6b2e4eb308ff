/**
 * The Go EPP's command-line flags this EPP does not implement (llm-d-router `pkg/epp/server/options.go` and
 * its logging options). A Go deployment's args must not stop the EPP from starting, so each is accepted with
 * its Go syntax; one that is given with a value asking for something this EPP does not do is named in one
 * warning at start. A flag the EPP implements (cli.ts) always wins over an entry here.
 */
import type { FlagSpec } from './go-flags.js';

export interface CompatFlag extends FlagSpec {
  /** What giving the flag does here, for the warning. */
  readonly effect: string;
  /** True when the given value asks for nothing this EPP lacks (e.g. `--tracing=false`): no warning. */
  readonly inert?: (raw: string) => boolean;
}

const isFalse = (raw: string) => ['false', '0', 'f', 'F', 'FALSE', 'False'].includes(raw);
const deprecatedMetric = (goDefault: string): CompatFlag => ({
  kind: 'string',
  default: goDefault,
  help: 'Deprecated in the Go EPP (configure engineConfigs / core-metrics-extractor instead); accepted and ignored.',
  effect: 'is deprecated (the Go EPP refuses it); metrics are named by the core-metrics-extractor plugin: ignored',
});
const notBuilt = (kind: FlagSpec['kind'], goDefault: string, help: string, inert?: (raw: string) => boolean): CompatFlag => ({
  kind,
  default: goDefault,
  help: `${help} (Go EPP flag; accepted, not implemented)`,
  effect: 'is not implemented: ignored',
  ...(inert ? { inert } : {}),
});

export const GO_COMPAT_FLAGS: Readonly<Record<string, CompatFlag>> = {
  'emit-endpoint-scores': notBuilt('bool', 'false', 'Emit per-endpoint scores in the envoy.lb dynamic metadata', isFalse),
  'refresh-prometheus-metrics-interval': {
    kind: 'duration',
    default: '5s',
    help: 'Interval to flush Prometheus metrics (Go EPP flag; here pool gauges are computed when /metrics is read).',
    effect: 'has no effect: pool gauges are computed when /metrics is read',
    inert: () => true,
  },
  'total-queued-requests-metric': deprecatedMetric('vllm:num_requests_waiting'),
  'total-running-requests-metric': deprecatedMetric('vllm:num_requests_running'),
  'kv-cache-usage-percentage-metric': deprecatedMetric('vllm:kv_cache_usage_perc'),
  'lora-info-metric': deprecatedMetric('vllm:lora_requests_info'),
  'cache-info-metric': deprecatedMetric('vllm:cache_config_info'),
  tracing: notBuilt('bool', 'true', 'Emit OpenTelemetry traces', isFalse),
  'health-checking': { kind: 'bool', default: 'false', help: 'Enables health checking (Go EPP flag; gRPC health is always served here).', effect: 'has no effect: gRPC health is always served on --grpc-health-port', inert: () => true },
  'enable-pprof': notBuilt('bool', 'true', 'Serve pprof handlers', isFalse),
  'enable-grpc-stream-metrics': notBuilt('bool', 'false', 'ext_proc gRPC stream metrics', isFalse),
  'tls-min-version': notBuilt('string', '', 'Minimum TLS version for secure serving', (raw) => raw === ''),
  'tls-cipher-suites': notBuilt('string', '', 'TLS cipher suites for secure serving', (raw) => raw === ''),
  'metrics-client-ca-file': notBuilt('string', '', 'PEM CA requiring verified client certificates on the metrics endpoint', (raw) => raw === ''),
  'metrics-cert-dir': notBuilt('string', '', 'Certificates that enable TLS on the metrics endpoint', (raw) => raw === ''),
  'allow-experimental-plugins': { kind: 'bool', default: 'false', help: 'Allow alpha plugins (Go EPP flag; every plugin loads here).', effect: 'has no effect: every plugin loads', inert: () => true },
  'zap-devel': notBuilt('bool', 'true', 'zap development mode', () => true),
  'zap-encoder': notBuilt('string', '', 'zap log encoding (json or console); logs are JSON lines here'),
  'zap-log-level': notBuilt('string', '', 'zap log level; use -v here'),
  'zap-stacktrace-level': notBuilt('string', '', 'zap stack-trace level'),
  'zap-time-encoding': notBuilt('string', '', 'zap time encoding'),
};

/** One warning per compat flag the command line gave (flags `implemented` elsewhere are skipped). */
export function compatWarnings(given: ReadonlyMap<string, string>, implemented: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [name, raw] of given) {
    const flag = GO_COMPAT_FLAGS[name];
    if (!flag || implemented.has(name) || flag.inert?.(raw)) continue;
    out.push(`--${name} (a Go EPP flag) ${flag.effect}`);
  }
  return out;
}
