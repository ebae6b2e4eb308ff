import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../src/cli.js';
import { ConfigError } from '../src/errors.js';

test('defaults are the Go EPP defaults', () => {
  const o = parseArgs([]);
  assert.equal(o.grpcPort, 9002);
  assert.equal(o.grpcHealthPort, 9003);
  assert.equal(o.metricsPort, 9090);
  assert.equal(o.secureServing, true);
  assert.equal(o.refreshMetricsInterval, 50);
  assert.equal(o.metricsStalenessThreshold, 2000);
  assert.equal(o.workers, 'auto');
  assert.equal(o.poolNamespace, 'default');
});

test('Go flag syntax: --f=v, --f v, -f v, bare and explicit booleans, durations', () => {
  const cases: { argv: string[]; check: (o: ReturnType<typeof parseArgs>) => void }[] = [
    { argv: ['--grpc-port=9100'], check: (o) => assert.equal(o.grpcPort, 9100) },
    { argv: ['--grpc-port', '9101'], check: (o) => assert.equal(o.grpcPort, 9101) },
    { argv: ['-grpc-port', '9102'], check: (o) => assert.equal(o.grpcPort, 9102) },
    { argv: ['--secure-serving=false'], check: (o) => assert.equal(o.secureServing, false) },
    { argv: ['--secure-serving'], check: (o) => assert.equal(o.secureServing, true) },
    { argv: ['--refresh-metrics-interval=2s'], check: (o) => assert.equal(o.refreshMetricsInterval, 2000) },
    { argv: ['--metrics-staleness-threshold', '1m30s'], check: (o) => assert.equal(o.metricsStalenessThreshold, 90_000) },
    { argv: ['--refresh-metrics-interval=1.5s'], check: (o) => assert.equal(o.refreshMetricsInterval, 1500) },
    { argv: ['--workers=0'], check: (o) => assert.equal(o.workers, 0) },
    { argv: ['--workers', 'auto'], check: (o) => assert.equal(o.workers, 'auto') },
    { argv: ['--config-text', 'plugins: []'], check: (o) => assert.equal(o.configText, 'plugins: []') },
    { argv: ['--help'], check: (o) => assert.equal(o.help, true) },
    { argv: ['--version'], check: (o) => assert.equal(o.version, true) },
    { argv: ['-version'], check: (o) => assert.equal(o.version, true) },
  ];
  for (const c of cases) c.check(parseArgs(c.argv));
});

test('bad flags are errors that name the flag', () => {
  const cases: { argv: string[]; message: RegExp }[] = [
    { argv: ['--no-such-flag=1'], message: /flag provided but not defined: -no-such-flag$/ },
    { argv: ['--grpc-prot=1'], message: /flag provided but not defined: -grpc-prot \(did you mean --grpc-port\?\)$/ },
    { argv: ['--config-fle', 'x'], message: /flag provided but not defined: -config-fle \(did you mean --config-file\?\)$/ },
    { argv: ['--grpc-port=abc'], message: /--grpc-port: invalid value "abc"/ },
    { argv: ['--secure-serving=maybe'], message: /--secure-serving: invalid boolean "maybe"/ },
    { argv: ['--refresh-metrics-interval=50'], message: /--refresh-metrics-interval: invalid duration "50"/ },
    { argv: ['--refresh-metrics-interval=5xs'], message: /invalid duration/ },
    { argv: ['--workers=many'], message: /--workers: invalid value "many"/ },
    { argv: ['--config-file'], message: /--config-file: flag needs an argument/ },
    { argv: ['--config-file=a.yaml', '--config-text=x: 1'], message: /only one of --config-file and --config-text/ },
    { argv: ['stray'], message: /unexpected argument "stray"/ },
  ];
  for (const c of cases) {
    assert.throws(() => parseArgs(c.argv), (err: unknown) => err instanceof ConfigError && c.message.test(err.message), c.argv.join(' '));
  }
});

test('every Go EPP flag is accepted; those not implemented warn once, naming themselves', () => {
  // Flags of llm-d-router's pkg/epp/server/options.go and its logging options that this EPP does not
  // implement (those owned by the Kubernetes work land with it).
  const goArgs = [
    '--tracing', '--emit-endpoint-scores=true', '--refresh-prometheus-metrics-interval=5s', '--health-checking',
    '--enable-pprof=true', '--enable-grpc-stream-metrics', '--tls-min-version=VersionTLS13', '--tls-cipher-suites=TLS_AES_128_GCM_SHA256',
    '--metrics-client-ca-file=/ca.pem', '--metrics-cert-dir=/certs', '--allow-experimental-plugins', '--zap-devel', '--zap-encoder=json',
    '--zap-log-level=debug', '--zap-stacktrace-level=error', '--zap-time-encoding=iso8601', '--total-queued-requests-metric=q',
    '--total-running-requests-metric=r', '--kv-cache-usage-percentage-metric=k', '--lora-info-metric=l', '--cache-info-metric=c',
    '--disable-endpoint-subset-filter', '--grpc-max-recv-msg-size=10MiB', '--grpc-max-send-msg-size', '25MB', '-v=2',
  ];
  const o = parseArgs(goArgs);
  const named = o.ignoredFlags.map((l) => /^--([a-z-]+) /.exec(l)?.[1]);
  assert.deepEqual(named.sort(), [
    'cache-info-metric', 'emit-endpoint-scores', 'enable-grpc-stream-metrics', 'enable-pprof', 'kv-cache-usage-percentage-metric',
    'lora-info-metric', 'metrics-cert-dir', 'metrics-client-ca-file', 'tls-cipher-suites', 'tls-min-version', 'total-queued-requests-metric',
    'total-running-requests-metric', 'tracing', 'zap-encoder', 'zap-log-level', 'zap-stacktrace-level', 'zap-time-encoding',
  ]);
  assert.equal(new Set(o.ignoredFlags).size, o.ignoredFlags.length, 'one line per flag');
  assert.ok(o.ignoredFlags.every((l) => /is not implemented: ignored|is deprecated/.test(l)), o.ignoredFlags.join('\n'));
  // Implemented ones take effect.
  assert.equal(o.disableEndpointSubsetFilter, true);
  assert.equal(o.grpcMaxRecvMsgSize, 10 * 1024 * 1024);
  assert.equal(o.grpcMaxSendMsgSize, 25_000_000);
  assert.equal(o.verbosity, 2);
  // Values that ask for nothing missing say nothing; nothing given, nothing said.
  assert.deepEqual(parseArgs(['--tracing=false', '--enable-pprof=false', '--health-checking', '--allow-experimental-plugins']).ignoredFlags, []);
  assert.deepEqual(parseArgs([]).ignoredFlags, []);
  assert.throws(() => parseArgs(['--grpc-max-recv-msg-size=lots']), /--grpc-max-recv-msg-size: invalid size "lots"/);
});
