/**
 * Assembles and starts a whole EPP from flags: config → plugins → data layer → director → the ext_proc
 * server (--grpc-port), gRPC health (--grpc-health-port) and Prometheus metrics (--metrics-port). The CLI,
 * the quick-start demo and the end-to-end tests all start it through here, so they run the same thing.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Registry as PromRegistry, Gauge } from 'prom-client';
import type { Options } from './cli.js';
import type { Logger } from './observability/logger.js';
import { loadConfig, type LoadedConfig } from './config/loader.js';
import { Registry } from './framework/registry.js';
import { isRequestParser, type RequestParser } from './framework/parser.js';
import { isSaturationDetector, type SaturationDetector } from './framework/saturation.js';
import { registerInTreePlugins } from './plugins/index.js';
import { OpenAiParser, registration as openaiParser } from './plugins/openai-parser/index.js';
import { registration as utilizationDetector, detectorOverrides } from './plugins/utilization-detector/index.js';
import { systemRandom } from './scheduling/random.js';
import { ProfileScheduler } from './scheduling/scheduler.js';
import { LoadTracker } from './director/load-tracker.js';
import { PickCycle } from './director/pick-cycle.js';
import { Director, NO_POLICIES, type RequestPolicies } from './director/director.js';
import { startDataLayer, type DataLayer } from './datalayer/data-layer.js';
import { PromSchedulingObserver } from './observability/scheduler-metrics.js';
import { PromRequestObserver } from './observability/request-metrics.js';
import { ScrapeMetrics } from './observability/scrape-metrics.js';
import { registerPoolMetrics } from './observability/pool-metrics.js';
import { promPluginMetrics } from './observability/plugin-metrics.js';
import { registerTokenizerMetrics } from './observability/tokenizer-metrics.js';
import { isTokenProducer } from './plugins/token-producer/index.js';
import { ExtProcService } from './extproc/server.js';
import { BareGrpcServer } from './extproc/bare-grpc.js';
import { frameProcessingResponse } from './extproc/response-encoder.js';
import { tuneV8ForServing } from './runtime/v8-tuning.js';
import { decodeRequest, PROCESS_PATH, type ProcessingRequest, type ProcessingResponse } from './extproc/codec.js';
import { DEFAULT_STREAM_OPTIONS } from './extproc/process-stream.js';
import { ResourceFile } from './resources/resource-file.js';
import { autoWorkers, ParseOffload } from './pool/parse-offload.js';
import { WorkerPool } from './pool/worker-pool.js';
import { ScoringEngine } from './pool/scoring-engine.js';
import { pooledPluginSpecs, pooledWorkOf } from './pool/engine-setup.js';
import { parsePlacement, placementOf } from './scheduling/placement.js';
import type { EndpointSnapshot } from './framework/endpoint.js';
import { PromWorkerPoolObserver } from './observability/worker-metrics.js';
import { priorityOf, rewriteTarget } from './resources/model-rewrite.js';
import { HealthService } from './server/health.js';
import { serverCredentials } from './server/tls.js';
import { startMetricsServer, type MetricsAuthorizer } from './server/metrics-server.js';
import { MetricsAuth } from './kube/metrics-auth.js';
import { pluginOf } from './config/plugin-ref.js';
import { featureGateWarnings, parserRefOf } from './config/unbuilt.js';
import { ConfigError } from './errors.js';
import type { PluginServices } from './framework/plugin.js';
import type { EndpointDiscovery } from './framework/discovery.js';
import { FROM_FLAGS, K8S_DISCOVERY, K8sDiscovery } from './plugins/k8s-discovery/index.js';
import { InferenceResources } from './kube/inference-resources.js';
import { defaultIdentity, LeaderElector } from './kube/leader-election.js';
import { buildFlowControlSettings, startFlowControl, type FlowController } from './flowcontrol/index.js';
import { DecisionLog } from './status/decision-log.js';
import { statusRoutes } from './status/routes.js';
import { ApproxPrefixCacheProducer } from './plugins/approx-prefix-cache-producer/index.js';
import { VERSION } from './version.js';

export interface EppStartOptions {
  /** Interface to listen on; all interfaces by default, as the Go EPP. */
  readonly host?: string;
  /**
   * Endpoint discovery to use when the config names none in `dataLayer.discovery` (the demo's simulated
   * pool); the config's own discovery wins. The EPP starts and stops it like a configured one.
   */
  readonly discovery?: EndpointDiscovery;
}

export interface RunningEpp {
  readonly grpcPort: number;
  readonly healthPort: number;
  readonly metricsPort: number;
  /** The self-signed certificate's PEM when TLS is on without --cert-path (clients trust it). */
  readonly certificatePem: string | undefined;
  readonly config: LoadedConfig;
  readonly dataLayer: DataLayer;
  readonly extProc: ExtProcService;
  /** Request control (the benchmarks drive streams through it without gRPC). */
  readonly director: Director;
  readonly tracker: LoadTracker;
  readonly metrics: PromRegistry;
  /** Large-body parsing on the worker pool; undefined with no worker threads or a parser that does not offload. */
  readonly parseOffload: ParseOffload | undefined;
  /** The leader elector with --ha-enable-leader-election, else undefined. */
  readonly leader: LeaderElector | undefined;
  /** Graceful shutdown: NOT_SERVING and the lease released at once, ext_proc served for `windowMs`, then everything closed. */
  drain(windowMs: number): Promise<void>;
  /** The worker-thread pool (named tasks, body parsing); no threads with --workers=0. */
  readonly workerPool: WorkerPool;
  /** The flow controller; undefined unless the flowControl feature gate is on. */
  readonly flowControl: FlowController | undefined;
  /** The last decisions with their scores, recorded while /status or /status.json is being read. */
  readonly decisions: DecisionLog;
  close(): Promise<void>;
}


function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port))));
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);


/**
 * gRPC keepalive for the ext_proc server: it pings an idle proxy connection (a dead peer is noticed and its
 * streams released), and it accepts the proxy's own pings as often as every 10 s (grpc-js would otherwise
 * answer pings more frequent than 5 minutes with GOAWAY).
 */
function keepalive(options: Options): grpc.ServerOptions {
  if (options.grpcKeepaliveTime <= 0) return { 'grpc.http2.min_ping_interval_without_data_ms': 10_000 };
  return {
    'grpc.keepalive_time_ms': options.grpcKeepaliveTime,
    'grpc.keepalive_timeout_ms': options.grpcKeepaliveTimeout,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  };
}

/** A port that cannot be had is a start-up error naming the flag that chose it. */
async function listening<T>(flag: string, address: string, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    throw new ConfigError(flag, `cannot listen on ${address}: ${(err as Error).message}`);
  }
}

/**
 * As the Go EPP: --pool-name (or --endpoint-selector) with no dataLayer.discovery in the config means
 * Kubernetes discovery of that pool (or of the selected pods).
 */
function kubernetesDiscoveryFromFlags(options: Options, config: LoadedConfig, registry: Registry, services: PluginServices, log: { warn(m: string): void }): EndpointDiscovery | undefined {
  if (!options.poolName && !options.endpointSelector) return undefined;
  if (config.raw.dataLayer?.discovery) return undefined;
  const parameters = {
    ...(options.poolName ? { poolName: options.poolName, poolNamespace: options.poolNamespace, poolGroup: options.poolGroup } : {}),
    ...(options.endpointSelector ? { endpointSelector: options.endpointSelector, endpointTargetPorts: options.endpointTargetPorts, poolNamespace: options.poolNamespace } : {}),
    kubeconfig: options.kubeconfig,
    [FROM_FLAGS]: true,
  };
  return registry.get(K8S_DISCOVERY)!.factory(K8S_DISCOVERY, parameters, { warn: log.warn, plugin: () => undefined, services }) as EndpointDiscovery;
}

/** The Lease this EPP's replicas elect a leader on: one per pool (or per standalone selector) and namespace. */
export function leaseNameOf(options: Options): string {
  const subject = options.poolName || `standalone-${createHash('sha256').update(options.endpointSelector).digest('hex').slice(0, 10)}`;
  return `epp-${options.poolNamespace}-${subject}.llm-d.ai`.toLowerCase().slice(0, 253);
}

/**
 * --metrics-endpoint-auth (on by default, as the Go EPP) needs the Kubernetes API: it is in effect with
 * Kubernetes discovery and off (logged) otherwise, e.g. with file discovery and in the quick start.
 */
function metricsAuthorizer(options: Options, dataLayer: DataLayer, log: { warn(m: string): void; info(m: string): void }): MetricsAuthorizer | undefined {
  if (!options.metricsEndpointAuth) return undefined;
  const discovered = dataLayer.discovery;
  if (!(discovered instanceof K8sDiscovery)) {
    log.info('metrics endpoint auth is off: it reviews tokens with the Kubernetes API, and this EPP does not use Kubernetes discovery');
    return undefined;
  }
  const auth = new MetricsAuth(discovered.client, log);
  return (authorization) => auth.check(authorization);
}

function startLeaderElection(options: Options, dataLayer: DataLayer, log: { warn(m: string): void; info(m: string): void }, changed: () => void): LeaderElector | undefined {
  if (!options.haEnableLeaderElection) return undefined;
  const discovered = dataLayer.discovery;
  if (!(discovered instanceof K8sDiscovery)) {
    throw new ConfigError('--ha-enable-leader-election', 'needs Kubernetes: give --pool-name or --endpoint-selector (or a k8s-discovery plugin)');
  }
  const elector = new LeaderElector({
    client: discovered.client,
    namespace: discovered.target.namespace,
    leaseName: leaseNameOf(options),
    identity: defaultIdentity(),
    log,
    onChange: changed,
  });
  elector.start();
  return elector;
}

export async function startEpp(options: Options, log: Logger, start: EppStartOptions = {}): Promise<RunningEpp> {
  tuneV8ForServing();
  let loaded: LoadedConfig | undefined;
  try {
    return await assemble(options, log, start, (c) => (loaded = c));
  } catch (err) {
    // A start-up error about the config (a plugin that cannot start, a ref of the wrong kind) names its file and line.
    throw err instanceof ConfigError && loaded?.locate ? loaded.locate(err) : err;
  }
}

async function assemble(options: Options, log: Logger, start: EppStartOptions, onConfig: (c: LoadedConfig) => void): Promise<RunningEpp> {
  const host = start.host ?? '0.0.0.0';
  for (const line of options.ignoredFlags ?? []) log.warn(line);
  const metrics = new PromRegistry();
  const workerMetrics = new PromWorkerPoolObserver(metrics);
  // Created before the config so plugins can hold it; it starts threads once the config says what needs them.
  const workerPool = new WorkerPool({ log, observer: workerMetrics });
  const services = { random: systemRandom, now: Date.now, workerTasks: workerPool, metrics: promPluginMetrics(metrics) };
  const pluginLog = { warn: (m: string) => log.warn(m), info: (m: string) => log.info(m) };
  const registry = registerInTreePlugins(new Registry());
  const config = loadConfig({ configFile: options.configFile || undefined, configText: options.configText || undefined }, registry, services, pluginLog);
  onConfig(config);

  for (const line of featureGateWarnings(config.featureGates)) log.warn(line);
  const parserRef = parserRefOf(config.raw, pluginLog.warn);
  const parser: RequestParser =
    (parserRef ? pluginOf(config, parserRef.ref, parserRef.path, isRequestParser, 'a request parser') : undefined) ??
    (openaiParser.factory(openaiParser.type, undefined, { warn: pluginLog.warn, plugin: () => undefined, services }) as RequestParser);
  // flowControl.saturationDetector wins over the deprecated top-level section (llm-d's rule), gate on or off.
  const [detectorPath, detectorRef] = config.raw.flowControl?.saturationDetector?.pluginRef
    ? ['flowControl.saturationDetector.pluginRef', config.raw.flowControl.saturationDetector.pluginRef]
    : ['saturationDetector.pluginRef', config.raw.saturationDetector?.pluginRef];
  const saturation: SaturationDetector =
    (detectorRef && config.plugins.has(detectorRef) ? pluginOf(config, detectorRef, detectorPath, isSaturationDetector, 'a saturation detector') : undefined) ??
    (utilizationDetector.factory(utilizationDetector.type, detectorOverrides(config.raw.saturationDetector), { warn: pluginLog.warn, plugin: () => undefined, services }) as SaturationDetector);

  const flowSettings = buildFlowControlSettings(config, registry, services, pluginLog);

  const tracker = new LoadTracker();
  const schedulingObserver = new PromSchedulingObserver(metrics);
  const placement = parsePlacement(options.placement);

  const resources = options.resourcesFile ? await ResourceFile.open(options.resourcesFile, { watch: true, log: pluginLog }) : undefined;
  let clusterResources: InferenceResources | undefined; // objectives and rewrites watched in the cluster
  const policies = (): RequestPolicies => {
    const source = resources ?? clusterResources;
    return source
      ? { priorityOf: (o) => priorityOf(source.current, o), rewriteTarget: (m) => rewriteTarget(source.current, m, services.random) }
      : NO_POLICIES;
  };

  const cleanups: (() => unknown)[] = [];
  const closeAll = async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };
  try {
    if (resources) cleanups.push(() => resources.close());
    // Threads start before the scheduler is built: placement depends on whether there are any.
    const pooledWork = pooledWorkOf(config, placement);
    const workers = options.workers === 'auto' ? autoWorkers(undefined, pooledWork.length > 0) : options.workers;
    const { specs, inlineOnly } = pooledPluginSpecs(config, registry, registerInTreePlugins(new Registry()));
    for (const name of inlineOnly) log.warn({ plugin: name }, 'pool-capable scorer of an out-of-tree type without a registration module: it runs inline');
    cleanups.push(() => workerPool.close());
    // Scorers asked onto the pool: threads load the plugins as they start rather than at the first request.
    const preloadScoring = specs.some((s) => placementOf(placement, s.name) === 'pool');
    workerPool.start(workers, { plugins: specs, preloadScoring });
    workerMetrics.threads(workerPool.threads);
    let snapshot = (): EndpointSnapshot => ({ epoch: 0, endpoints: [] });
    const scoring = new ScoringEngine({ pool: workerPool, snapshot: () => snapshot(), batch: options.poolBatch });
    // Plugins holding sockets or timers (precise-prefix-cache-producer, program-aware-fairness) close with the EPP.
    cleanups.push(() => {
      for (const p of new Set([...config.plugins.values(), ...config.producers])) (p as { close?: () => void }).close?.();
    });
    const decisions = new DecisionLog({ watchedAtStart: true });
    cleanups.push(() => decisions.close());
    const scheduler = new ProfileScheduler(config.scheduler, schedulingObserver, {
      placement,
      pool: scoring,
      trace: decisions,
      onPlacement: (e) => {
        workerMetrics.placement(e.profile, e.plugin, e.placement);
        log.info({ profile: e.profile, plugin: e.plugin, placement: e.placement, why: e.why }, 'scorer placement');
      },
    });
    void scoring.probe();
    const pickCycle = new PickCycle({ producers: config.producers, scheduler, preRequests: config.preRequests, loadTracker: tracker, trace: decisions }, schedulingObserver);

    const defaultDiscovery = start.discovery ?? kubernetesDiscoveryFromFlags(options, config, registry, services, pluginLog);
    const dataLayer = await startDataLayer(config, { tracker, refreshMs: options.refreshMetricsInterval, stalenessMs: options.metricsStalenessThreshold, log: pluginLog, defaultDiscovery, scrapeObserver: new ScrapeMetrics(metrics) });
    cleanups.push(() => dataLayer.close());
    snapshot = () => dataLayer.store.snapshot();
    const discovered = dataLayer.discovery;
    if (!resources && discovered instanceof K8sDiscovery && discovered.target.mode === 'pool') {
      const t = discovered.target;
      clusterResources = await InferenceResources.start({ client: discovered.client, pool: { namespace: t.namespace, name: t.poolName, group: t.poolGroup }, log: pluginLog });
      cleanups.push(() => clusterResources?.close());
    }
    registerPoolMetrics(metrics, options.poolName || 'default', {
      snapshot: () => dataLayer.store.snapshot(),
      staleReason: (e) => dataLayer.staleReason(e),
      scrapeProblem: (k) => dataLayer.scrapeProblem(k),
    });
    new Gauge({ name: 'inference_extension_info', help: 'General information of the current build of Inference Extension.', labelNames: ['commit', 'build_ref'], registers: [metrics] }).set({ commit: 'epp-ts', build_ref: '0.1.0' }, 1);

    registerTokenizerMetrics(metrics, [...config.plugins.values()].filter(isTokenProducer));
    // Only the OpenAI parser's work is worth a worker; a passthrough or custom parser runs inline.
    const offload = workers > 0 && parser instanceof OpenAiParser ? new ParseOffload({ pool: workerPool, minBytes: options.parseOffloadBytes }) : undefined;

    const flowControl = flowSettings
      ? startFlowControl(flowSettings, {
          pool: () => dataLayer.store.snapshot().endpoints,
          detector: saturation,
          metrics,
          poolName: options.poolName || 'default',
          refreshMs: options.refreshMetricsInterval,
          stalenessMs: options.metricsStalenessThreshold,
        })
      : undefined;
    if (flowControl) {
      // New metrics, a pod joining or leaving: queued requests may fit now.
      dataLayer.store.onChange(() => flowControl.kick());
    }

    const director = new Director({
      parser,
      pickCycle,
      tracker,
      snapshot: () => dataLayer.store.snapshot(),
      saturation,
      admitters: config.admitters,
      responseReceived: config.responseReceived,
      responseStreaming: config.responseStreaming,
      responseComplete: config.responseComplete,
      policies,
      observer: new PromRequestObserver(metrics),
      newRequestId: randomUUID,
      ...(offload ? { offload } : {}),
      ...(flowControl ? { flowControl: flowControl.gate } : {}),
      unreachable: (e) => dataLayer.unroutable(e),
      unreachableNow: () => dataLayer.unroutableNow(),
    });
    const extProc = new ExtProcService(director, { ...DEFAULT_STREAM_OPTIONS, maxBodyBytes: options.maxRequestBodyBytes, ignoreSubsetHint: options.disableEndpointSubsetFilter, log }, { maxStreams: options.maxConcurrentStreams, idleMs: options.streamIdleTimeout });

    if (options.enableCertReload && !(options.secureServing && options.certPath)) pluginLog.warn('--enable-cert-reload has no effect without --secure-serving and --cert-path');
    const tls = await serverCredentials({ secure: options.secureServing, certPath: options.certPath, ...(options.enableCertReload ? { reload: pluginLog } : {}) });
    if (tls.reloading) cleanups.push(() => tls.reloading?.close());
    // Runs before the gRPC shutdown: queued requests are answered (503, shutting down) while their streams are open.
    const closeFlow = () => (flowControl ? (flowControl.close(), new Promise<void>((resolve) => setImmediate(resolve))) : undefined);
    const grpcAddress = hostPort(host, options.grpcPort);
    let grpcPort: number;
    if (options.grpcTransport === 'grpc-js') {
      const grpcServer = new grpc.Server({
        'grpc.max_receive_message_length': options.grpcMaxRecvMsgSize,
        'grpc.max_send_message_length': options.grpcMaxSendMsgSize,
        ...keepalive(options),
      });
      extProc.addTo(grpcServer);
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            extProc.closeAll();
            grpcServer.tryShutdown(() => resolve());
            setTimeout(() => (grpcServer.forceShutdown(), resolve()), 2000).unref();
          }),
      );
      cleanups.push(closeFlow);
      grpcPort = await listening('--grpc-port', grpcAddress, () => bind(grpcServer, grpcAddress, tls.credentials));
    } else {
      const bare = new BareGrpcServer<ProcessingRequest, ProcessingResponse>({
        path: PROCESS_PATH,
        decode: decodeRequest,
        frame: frameProcessingResponse,
        maxRecvBytes: options.grpcMaxRecvMsgSize,
        maxSendBytes: options.grpcMaxSendMsgSize,
        keepaliveMs: options.grpcKeepaliveTime,
        keepaliveTimeoutMs: options.grpcKeepaliveTimeout,
        ...(tls.pair ? { tls: tls.pair } : {}),
        onCall: (call) => extProc.serve(call),
      });
      tls.reloading?.addIdentityCertificateListener((pair) => pair && bare.setCertificate(pair.certificate, pair.privateKey));
      cleanups.push(() => (extProc.closeAll(), bare.close(2000)));
      cleanups.push(closeFlow);
      grpcPort = await listening('--grpc-port', grpcAddress, () => bare.listen(host, options.grpcPort));
    }

    // Ready: the first complete view of the pool is in, this replica leads (with leader election), and it is not draining.
    let draining = false;
    let notifyHealth = (): void => {};
    const elector = startLeaderElection(options, dataLayer, pluginLog, () => notifyHealth());
    if (elector) cleanups.push(() => elector.stop());
    const health = new HealthService(() => dataLayer.store.isReady && (elector?.isLeader ?? true) && !draining, { overallIsReadiness: elector !== undefined });
    notifyHealth = () => health.notify();
    const healthServer = new grpc.Server();
    health.addTo(healthServer);
    cleanups.push(() => {
      health.close();
      healthServer.forceShutdown();
    });
    const healthAddress = hostPort(host, options.grpcHealthPort);
    const healthPort = await listening('--grpc-health-port', healthAddress, () => bind(healthServer, healthAddress, grpc.ServerCredentials.createInsecure()));
    void dataLayer.store.whenReady().then(() => health.notify());

    const status = statusRoutes({
      version: `epp-ts ${VERSION}`,
      startedAt: Date.now(),
      poolName: options.poolName || 'default',
      endpoints: () => dataLayer.store.snapshot().endpoints,
      staleReason: (e) => dataLayer.staleReason(e) ?? dataLayer.scrapeProblem(e.key),
      decisions,
      prefixIndexes: () => prefixIndexesOf(config),
      workers: () => ({
        threads: workerPool.threads,
        tasks: scoring.stats.tasks,
        jobs: scoring.stats.jobs,
        handOffUs: scoring.roundTripUs(),
        fallbacks: workerPool.stats.fallbacks,
        placements: [...scheduler.profiles].flatMap(([profile, runner]) => [...runner.placements()].map(([plugin, placement]) => ({ profile, plugin, placement }))),
      }),
      ...(flowControl
        ? {
            flowControl: () => {
              const c = flowControl.controller;
              return { queued: c.queued, queuedBytes: c.queuedBytes, saturation: c.saturation().effective, bands: [...c.bands()].map((b) => ({ priority: b.priority, queued: b.len, bytes: b.bytes, flows: b.flowCount })) };
            },
          }
        : {}),
    });
    const metricsServer = await listening('--metrics-port', hostPort(host, options.metricsPort), () => startMetricsServer(metrics, options.metricsPort, host, metricsAuthorizer(options, dataLayer, pluginLog), status));
    cleanups.push(() => metricsServer.close());

    log.info({ grpcPort, healthPort, metricsPort: metricsServer.port, tls: options.secureServing, parser: parser.name, workers: workerPool.threads, pooledWork, profiles: [...scheduler.profiles.keys()] }, 'EPP serving');
    return {
      grpcPort,
      healthPort,
      metricsPort: metricsServer.port,
      certificatePem: tls.certificatePem,
      config,
      dataLayer,
      extProc,
      director,
      tracker,
      metrics,
      parseOffload: offload,
      workerPool,
      leader: elector,
      flowControl: flowControl?.controller,
      decisions,
      close: closeAll,
      drain: async (windowMs: number) => {
        draining = true;
        health.notify();
        log.info({ drainTimeoutMs: windowMs }, 'draining: readiness NOT_SERVING, ext_proc serving until the drain window ends');
        await elector?.stop(); // released now, so a standby takes over while this one drains
        await new Promise((r) => setTimeout(r, windowMs));
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** The approximate prefix indexes of a config (producers, and scorers that produce for themselves), once each. */
function prefixIndexesOf(config: LoadedConfig): { name: string; blocks: number; entries: number }[] {
  const seen = new Set<ApproxPrefixCacheProducer>();
  for (const p of [...config.plugins.values(), ...config.producers]) {
    const producer = p instanceof ApproxPrefixCacheProducer ? p : (p as { producer?: unknown }).producer;
    if (producer instanceof ApproxPrefixCacheProducer) seen.add(producer);
  }
  return [...seen].map((p) => ({ name: p.name, blocks: p.index.size, entries: p.index.entries }));
}
