/** InferenceObjective / InferenceModelRewrite from the cluster: the mapping table-driven, then live watches against the fake API server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceResources, resourcesFromObjects } from '../../src/kube/inference-resources.js';
import { loadKubeClient } from '../../src/kube/client.js';
import { crdPath, FakeKubeApi } from '../helpers/fake-kube-api.js';
import { until } from '../helpers/until.js';

const POOL = { namespace: 'ml', name: 'pool', group: 'inference.networking.k8s.io' };
const ref = (name = 'pool', group?: string) => ({ name, ...(group ? { group } : {}) });
const objective = (name: string, priority: unknown, poolRef = ref(), extra: Record<string, unknown> = {}) => ({ metadata: { name, ...extra }, spec: { priority, poolRef } });
const rewrite = (name: string, created: string, from: string, to: string, poolRef = ref()) => ({
  metadata: { name, creationTimestamp: created },
  spec: { poolRef, rules: [{ matches: [{ model: { type: 'Exact', value: from } }], targets: [{ modelRewrite: to }] }] },
});

test('resourcesFromObjects: only this pool, oldest rewrite first, bad objects skipped with a warning', () => {
  const cases: { what: string; objectives: object[]; rewrites: object[]; want: { objectives: [string, number][]; rewrites: string[]; warnings: RegExp[] } }[] = [
    {
      what: 'poolRef filters by name and group (unset group = the v1 group)',
      objectives: [objective('a', 5), objective('b', 1, ref('other')), objective('c', 2, ref('pool', 'inference.networking.x-k8s.io')), objective('d', 3, ref('pool', 'inference.networking.k8s.io'))],
      rewrites: [],
      want: { objectives: [['a', 5], ['d', 3]], rewrites: [], warnings: [] },
    },
    {
      what: 'terminating objects do not count; a missing priority is 0',
      objectives: [objective('a', undefined), objective('gone', 9, ref(), { deletionTimestamp: '2026-01-01T00:00:00Z' })],
      rewrites: [],
      want: { objectives: [['a', 0]], rewrites: [], warnings: [] },
    },
    {
      what: 'rewrites ordered by creation time, then name',
      objectives: [],
      rewrites: [rewrite('z-new', '2026-02-01T00:00:00Z', 'm', 'new'), rewrite('b-old', '2026-01-01T00:00:00Z', 'm', 'old'), rewrite('a-old', '2026-01-01T00:00:00Z', 'm', 'older-name')],
      want: { objectives: [], rewrites: ['a-old:m>older-name', 'b-old:m>old', 'z-new:m>new'], warnings: [] },
    },
    {
      what: 'invalid objects are skipped and named',
      objectives: [objective('bad', 'high')],
      rewrites: [{ metadata: { name: 'empty' }, spec: { poolRef: ref(), rules: [] } }],
      want: { objectives: [], rewrites: [], warnings: [/InferenceObjective ml\/bad skipped: spec.priority must be an integer/, /InferenceModelRewrite ml\/empty skipped: spec.rules must have at least one rule/] },
    },
  ];
  for (const c of cases) {
    const warnings: string[] = [];
    const r = resourcesFromObjects(POOL, c.objectives as never, c.rewrites as never, (m) => warnings.push(m));
    assert.deepEqual([...r.objectives.values()].map((o) => [o.name, o.priority]), c.want.objectives, c.what);
    assert.deepEqual(r.rewrites.map((x) => `${x.name}:${x.models.join('|')}>${x.targets.map((t) => t.model).join('|')}`), c.want.rewrites, c.what);
    assert.equal(warnings.length, c.want.warnings.length, `${c.what}: ${warnings.join('; ')}`);
    c.want.warnings.forEach((re, i) => assert.match(warnings[i]!, re, c.what));
  }
});

test('InferenceResources watches llm-d.ai objects, falls back to the older group, and skips kinds not served', async () => {
  const api = await FakeKubeApi.start();
  const warnings: string[] = [];
  const log = { warn: (m: string) => warnings.push(m), info: () => {} };
  try {
    api.serve('llm-d.ai', 'v1alpha2', 'inferenceobjectives');
    api.serve('inference.networking.x-k8s.io', 'v1alpha2', 'inferencemodelrewrites');
    const objectives = crdPath('llm-d.ai', 'v1alpha2', 'ml', 'inferenceobjectives');
    const rewrites = crdPath('inference.networking.x-k8s.io', 'v1alpha2', 'ml', 'inferencemodelrewrites');
    api.put(objectives, { apiVersion: 'llm-d.ai/v1alpha2', kind: 'InferenceObjective', ...objective('critical', 100) });
    const r = await InferenceResources.start({ client: await loadKubeClient(api.kubeconfig('ml')), pool: POOL, log, backoff: { initialMs: 20, maxMs: 100 } });
    try {
      assert.equal(r.current.objectives.get('critical')?.priority, 100);
      api.put(rewrites, { apiVersion: 'inference.networking.x-k8s.io/v1alpha2', kind: 'InferenceModelRewrite', ...rewrite('r', '2026-01-01T00:00:00Z', 'food', 'food-v2') });
      await until(() => r.current.rewrites.length === 1, 'the rewrite applied');
      api.put(objectives, { apiVersion: 'llm-d.ai/v1alpha2', kind: 'InferenceObjective', ...objective('critical', 7) });
      await until(() => r.current.objectives.get('critical')?.priority === 7, 'the edit applied');
      // A restarted watch after compaction relists: a deletion made meanwhile is seen.
      api.closeWatches();
      api.remove(objectives, 'critical');
      api.compact();
      await until(() => r.current.objectives.size === 0, 'the deletion seen through the relist');
      assert.equal(api.count('GET', /^\/apis\/llm-d.ai\/v1alpha2\/namespaces\/ml\/inferencemodelrewrites$/), 1, 'tried the llm-d.ai group first, then fell back');
    } finally {
      await r.close();
    }
    const none = await FakeKubeApi.start();
    try {
      const r2 = await InferenceResources.start({ client: await loadKubeClient(none.kubeconfig('ml')), pool: POOL, log });
      assert.equal(r2.current.objectives.size, 0);
      assert.ok(warnings.some((w) => /serves no InferenceObjective \(llm-d.ai\/v1alpha2 or inference.networking.x-k8s.io\/v1alpha2\); skipping it/.test(w)), warnings.join('\n'));
      await r2.close();
    } finally {
      await none.close();
    }
  } finally {
    await api.close();
  }
});
