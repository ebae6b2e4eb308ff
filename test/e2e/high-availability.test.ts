/**
 * Two real EPP processes with --ha-enable-leader-election against the fake API server: one leads and is
 * ready, the standby keeps its data current but reports NOT_SERVING; SIGTERM to the leader right after it
 * renewed releases the lease, the standby takes over within a retry period (not a lease period) and the
 * old leader exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crdPath, FakeKubeApi, leasesPath, pod, podsPath, poolV1 } from '../helpers/fake-kube-api.js';
import { startEppProcess, type EppProcess } from '../helpers/epp-process.js';
import { loopbackModelServers } from '../helpers/loopback-servers.js';
import { until } from '../helpers/until.js';
import { DEFAULT_CONFIG_TEXT } from '../../src/config/defaults.js';

const SERVING = 1;
const NOT_SERVING = 2;
const LEASE = 'epp-ml-pool.llm-d.ai';

test('HA: one leader ready, a standby current but NOT_SERVING; SIGTERM right after a renewal hands over in about two seconds', async () => {
  const api = await FakeKubeApi.start();
  api.serve('inference.networking.k8s.io', 'v1', 'inferencepools');
  const servers = await loopbackModelServers(2);
  api.put(crdPath('inference.networking.k8s.io', 'v1', 'ml', 'inferencepools'), poolV1('pool', { app: 'vllm' }, [servers.port]));
  api.put(podsPath('ml'), pod('a', { ip: servers.ips[0] }));
  api.put(podsPath('ml'), pod('b', { ip: servers.ips[1] }));
  const kubeconfig = api.kubeconfig('ml');
  const args = ['--config-text', DEFAULT_CONFIG_TEXT, '--pool-name=pool', '--pool-namespace=ml', `--kubeconfig=${kubeconfig}`, '--ha-enable-leader-election', '--secure-serving=false', '--metrics-endpoint-auth=false', '--drain-timeout=300ms', '--refresh-metrics-interval=20ms'];
  const procs: EppProcess[] = [];
  try {
    const started = await Promise.allSettled([startEppProcess(args, { POD_NAME: 'epp-one' }, 60_000), startEppProcess(args, { POD_NAME: 'epp-two' }, 60_000)]);
    for (const r of started) if (r.status === 'fulfilled') procs.push(r.value);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const holder = () => String(api.get(leasesPath('ml'), LEASE)?.spec?.holderIdentity ?? '');
    await until(() => holder() !== '', 'a leader elected', 8000);
    const leader = procs.find((p) => holder().startsWith(p === procs[0] ? 'epp-one_' : 'epp-two_'))!;
    const standby = procs.find((p) => p !== leader)!;
    assert.match(holder(), /^epp-(one|two)_[0-9a-f-]{36}$/, 'identity: POD_NAME plus a unique suffix');

    await until(async () => (await leader.health('readiness')) === SERVING, 'the leader ready', 8000);
    assert.equal(await standby.health('readiness'), NOT_SERVING, 'the standby is not ready');
    assert.equal(await standby.health(''), NOT_SERVING, 'nor is its overall status, with leader election');
    assert.equal(await standby.health('liveness'), SERVING, 'but it is alive');
    // The standby's data is current: it discovered and scraped both pods.
    await until(async () => /inference_pool_ready_pods\{name="pool"\} 2/.test(await (await fetch(`http://127.0.0.1:${standby.metricsPort}/metrics`)).text()), 'the standby sees both pods');

    // Wait for a renewal, then SIGTERM the leader at once.
    const renewed = String(api.get(leasesPath('ml'), LEASE)!.spec.renewTime);
    assert.match(renewed, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'MicroTime');
    await until(() => String(api.get(leasesPath('ml'), LEASE)!.spec.renewTime) !== renewed, 'a renewal', 5000);
    const t0 = Date.now();
    leader.kill('SIGTERM');
    await until(async () => (await leader.health('readiness').catch(() => NOT_SERVING)) === NOT_SERVING, 'the old leader NOT_SERVING at once', 3000);
    await until(() => holder().startsWith(standby === procs[0] ? 'epp-one_' : 'epp-two_'), 'the standby took the lease', 12_000);
    const failover = Date.now() - t0;
    // The standby retries every 2 s (+ up to 20 % jitter); an unreleased lease would take 15 s to expire.
    // The bound leaves room for a machine loaded by other tests.
    assert.ok(failover < 9000, `failover took ${failover} ms: the lease was released, not left to expire (15 s)`);
    await until(async () => (await standby.health('readiness')) === SERVING, 'the new leader ready', 3000);
    assert.equal(await leader.exited, 0, 'the old leader exits 0');
    assert.ok(leader.lines.some((l) => l.includes('released lease ml/epp-ml-pool.llm-d.ai')), leader.lines.join('\n'));
    const lease = api.get(leasesPath('ml'), LEASE)!;
    assert.equal(lease.spec.leaseTransitions, 1, 'one transition recorded');
    process.stdout.write(`# failover after SIGTERM: ${failover} ms\n`);
  } finally {
    await Promise.all(procs.map((p) => p.close()));
    await servers.close();
    await api.close();
  }
});
