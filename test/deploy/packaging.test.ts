/**
 * Packaging: the Helm chart rendered by a real helm (see helpers/helm.ts) under several value sets, and the
 * plain manifests in deploy/kubernetes, parsed as Kubernetes objects and checked for what makes them work:
 * names and references line up (Service → pods, probes → ports, RoleBinding → Role and ServiceAccount,
 * InferencePool → the EPP Service), the EPP's args parse with this EPP's own flag parser, the config file
 * they name loads with its own config loader, and RBAC grants what the flags need.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseArgs } from '../../src/cli.js';
import { loadConfig } from '../../src/config/loader.js';
import { Registry } from '../../src/framework/registry.js';
import { registerInTreePlugins } from '../../src/plugins/index.js';
import { poolSpecOf } from '../../src/plugins/k8s-discovery/pool.js';
import { testServices } from '../helpers/fixtures.js';
import { helm, helmTemplate } from '../helpers/helm.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHART = join(ROOT, 'deploy/helm/epp-ts');

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

const DNS1123 = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function parseObjects(text: string, source: string): Obj[] {
  const out: Obj[] = [];
  for (const doc of parseAllDocuments(text)) {
    assert.equal(doc.errors.length, 0, `${source}: ${doc.errors[0]?.message}`);
    const o = doc.toJS() as Obj | null;
    if (o === null) continue;
    const at = `${source}: ${o.kind}/${o.metadata?.name}`;
    assert.equal(typeof o.apiVersion, 'string', `${at}: apiVersion`);
    assert.equal(typeof o.kind, 'string', `${at}: kind`);
    assert.match(o.metadata?.name ?? '', DNS1123, `${at}: metadata.name`);
    out.push(o);
  }
  return out;
}

const one = (objs: Obj[], kind: string, name?: string) => {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''} (found ${found.length})`);
  return found[0]!;
};

const grants = (rules: any[], group: string, resource: string, verbs: string[]) =>
  verbs.every((v) => rules.some((r) => r.apiGroups?.includes(group) && r.resources?.includes(resource) && r.verbs?.includes(v)));

/** Checks a rendered set; returns the EPP's parsed options for case-specific assertions. */
function checkRelease(objs: Obj[], namespace: string) {
  for (const o of objs) if (!['ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) assert.equal(o.metadata.namespace, namespace, `${o.kind}/${o.metadata.name} namespace`);
  const deploy = one(objs, 'Deployment');
  assert.equal(deploy.apiVersion, 'apps/v1');
  const tpl = deploy.spec.template;
  for (const [k, v] of Object.entries(deploy.spec.selector.matchLabels)) assert.equal(tpl.metadata.labels[k], v, 'selector matches the pod template');
  const epp = tpl.spec.containers.find((c: any) => c.name === 'epp');
  assert.ok(epp, 'an epp container');
  assert.match(epp.image, /^[\w./-]+(:[\w.-]+)?$/, 'image reference');
  const ports = new Map<string, number>(epp.ports.map((p: any) => [p.name, p.containerPort]));
  for (const [name, port] of ports) {
    assert.ok(Number.isInteger(port) && port > 0 && port < 65536, `port ${name}`);
    assert.ok(name.length <= 15, `port name ${name} at most 15 characters`);
  }
  assert.equal(tpl.spec.securityContext.runAsNonRoot, true, 'non-root');
  // The args are this EPP's flags: they parse, and the ports they set are the container's.
  const options = parseArgs(epp.args.map(String));
  assert.equal(options.grpcPort, ports.get('grpc'));
  assert.equal(options.grpcHealthPort, ports.get('grpc-health'));
  assert.equal(options.metricsPort, ports.get('metrics'));
  for (const probe of [epp.livenessProbe, epp.readinessProbe]) assert.equal(probe.grpc.port, options.grpcHealthPort, 'probes hit the health port');
  assert.equal(epp.livenessProbe.grpc.service, 'liveness');
  assert.equal(epp.readinessProbe.grpc.service, 'readiness');
  assert.ok(tpl.spec.terminationGracePeriodSeconds * 1000 > options.drainTimeout, 'the grace period outlasts the drain window');
  assert.ok(epp.env.some((e: any) => e.name === 'POD_NAME' && e.valueFrom.fieldRef.fieldPath === 'metadata.name'), 'POD_NAME for the lease identity');
  // The config file the args name is a key of a mounted ConfigMap, and loads.
  const mount = epp.volumeMounts.find((m: any) => options.configFile.startsWith(`${m.mountPath}/`));
  assert.ok(mount, `--config-file ${options.configFile} is on a mounted volume`);
  const volume = tpl.spec.volumes.find((v: any) => v.name === mount.name);
  const cm = one(objs, 'ConfigMap', volume.configMap.name);
  const text = cm.data[options.configFile.slice(mount.mountPath.length + 1)];
  assert.equal(typeof text, 'string', 'the ConfigMap holds the config file');
  loadConfig({ configText: text }, registerInTreePlugins(new Registry()), testServices(), { warn: () => {} });
  // Service → pods and ports.
  const svc = one(objs, 'Service');
  for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(tpl.metadata.labels[k], v, 'the Service selects the EPP pods');
  const grpcPort = svc.spec.ports.find((p: any) => p.name === 'grpc-ext-proc');
  assert.equal(grpcPort.port, options.grpcPort);
  // RBAC: bindings point at what exists; the Role grants what the flags need.
  const sa = one(objs, 'ServiceAccount', tpl.spec.serviceAccountName);
  const role = one(objs, 'Role');
  const binding = one(objs, 'RoleBinding');
  assert.equal(binding.roleRef.name, role.metadata.name);
  assert.ok(binding.subjects.some((s: any) => s.kind === 'ServiceAccount' && s.name === sa.metadata.name));
  assert.ok(grants(role.rules, '', 'pods', ['get', 'list', 'watch']), 'pods');
  if (options.poolName) assert.ok(grants(role.rules, options.poolGroup, 'inferencepools', ['get', 'list', 'watch']), 'inferencepools');
  if (options.poolName) assert.ok(grants(role.rules, 'llm-d.ai', 'inferenceobjectives', ['list', 'watch']), 'objectives');
  if (options.haEnableLeaderElection) assert.ok(grants(role.rules, 'coordination.k8s.io', 'leases', ['get', 'create', 'update']), 'leases');
  if (options.metricsEndpointAuth) {
    const cr = objs.find((o) => o.kind === 'ClusterRole' && grants(o.rules, 'authentication.k8s.io', 'tokenreviews', ['create']) && grants(o.rules, 'authorization.k8s.io', 'subjectaccessreviews', ['create']));
    assert.ok(cr, 'metrics auth: tokenreviews and subjectaccessreviews');
    assert.ok(objs.some((o) => o.kind === 'ClusterRoleBinding' && o.roleRef.name === cr!.metadata.name && o.subjects.some((s: any) => s.name === sa.metadata.name)));
  }
  // The InferencePool (pool mode) selects pods and points at the EPP's Service.
  if (options.poolName) {
    const pool = one(objs, 'InferencePool', options.poolName);
    assert.equal(pool.apiVersion.split('/')[0], options.poolGroup);
    assert.notEqual(typeof poolSpecOf(pool), 'string', `InferencePool: ${String(poolSpecOf(pool))}`);
    const ref = pool.spec.endpointPickerRef ?? pool.spec.extensionRef;
    assert.equal(ref.name, svc.metadata.name, 'the pool names the EPP Service');
    assert.equal(ref.port?.number ?? ref.portNumber, grpcPort.port);
  }
  return { options, objs, epp, deploy };
}

test('helm chart: lint, then rendered under varied values into objects that fit together', () => {
  assert.match(helm(['lint', CHART, '--set', 'inferencePool.modelServers.matchLabels.app=vllm']), /1 chart\(s\) linted, 0 chart\(s\) failed/);
  const base = { 'inferencePool.modelServers.matchLabels.app': 'vllm-llama3' };
  const cases: { what: string; set: Record<string, string | number | boolean>; expect: (r: ReturnType<typeof checkRelease>) => void }[] = [
    {
      what: 'defaults: one replica, v1 pool, metrics auth on',
      set: base,
      expect: ({ options, objs }) => {
        assert.equal(options.poolName, 'my-pool');
        assert.equal(options.haEnableLeaderElection, false);
        assert.equal(options.metricsEndpointAuth, true);
        assert.deepEqual(one(objs, 'InferencePool').spec.selector.matchLabels, { app: 'vllm-llama3' });
        assert.ok(!objs.some((o) => o.kind === 'DestinationRule' || o.kind === 'ServiceMonitor' || o.kind === 'HTTPRoute'));
      },
    },
    {
      what: 'two replicas: leader election',
      set: { ...base, 'inferenceExtension.replicas': 2 },
      expect: ({ options, deploy }) => {
        assert.equal(options.haEnableLeaderElection, true);
        assert.equal(deploy.spec.replicas, 2);
      },
    },
    {
      what: 'auth off, ServiceMonitor, extra flags, Istio, objectives, HTTPRoute',
      set: {
        ...base,
        'inferenceExtension.monitoring.prometheus.auth.enabled': false,
        'inferenceExtension.monitoring.prometheus.enabled': true,
        'inferenceExtension.flags.v': 1,
        'inferenceExtension.flags.workers': 2,
        'provider.name': 'istio',
        'inferenceObjectives[0].name': 'critical',
        'inferenceObjectives[0].priority': 10,
        'experimentalHttpRoute.enabled': true,
      },
      expect: ({ options, objs }) => {
        assert.equal(options.metricsEndpointAuth, false);
        assert.equal(options.verbosity, 1);
        assert.equal(options.workers, 2);
        assert.equal(one(objs, 'DestinationRule').spec.trafficPolicy.tls.mode, 'SIMPLE');
        assert.equal(one(objs, 'ServiceMonitor').spec.endpoints[0].port, 'http-metrics');
        const o = one(objs, 'InferenceObjective', 'critical');
        assert.deepEqual([o.spec.priority, o.spec.poolRef.name, o.spec.poolRef.group], [10, 'my-pool', 'inference.networking.k8s.io']);
        assert.equal(one(objs, 'HTTPRoute').spec.rules[0].backendRefs[0].name, 'my-pool');
      },
    },
    {
      what: 'the older v1alpha2 pool',
      set: { ...base, 'inferencePool.apiVersion': 'inference.networking.x-k8s.io/v1alpha2' },
      expect: ({ options, objs }) => {
        assert.equal(options.poolGroup, 'inference.networking.x-k8s.io');
        assert.equal(one(objs, 'InferencePool').spec.targetPortNumber, 8000);
      },
    },
    {
      what: 'standalone: no InferencePool, --endpoint-selector and ports',
      set: { 'inferenceExtension.endpointsServer.createInferencePool': false, 'inferenceExtension.endpointsServer.endpointSelector': 'app=vllm', 'inferenceExtension.endpointsServer.targetPorts[0]': 8000, 'inferenceExtension.endpointsServer.targetPorts[1]': 8001 },
      expect: ({ options, objs }) => {
        assert.equal(options.endpointSelector, 'app=vllm');
        assert.equal(options.endpointTargetPorts, '8000,8001');
        assert.ok(!objs.some((o) => o.kind === 'InferencePool'));
      },
    },
  ];
  for (const c of cases) {
    const text = helmTemplate(CHART, 'my-pool', 'ml', c.set);
    c.expect(checkRelease(parseObjects(text, c.what), 'ml'));
  }
  assert.throws(() => helmTemplate(CHART, 'my-pool', 'ml'), /inferencePool.modelServers.matchLabels is required/);
});

test('plain manifests (deploy/kubernetes) parse and fit together', () => {
  const dir = join(ROOT, 'deploy/kubernetes');
  const objs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseObjects(readFileSync(join(dir, f), 'utf8'), f));
  const { options } = checkRelease(objs, 'default');
  assert.equal(options.haEnableLeaderElection, true);
  assert.equal(options.poolName, 'my-pool');
});
