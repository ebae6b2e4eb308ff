/**
 * examples/grafana/epp-dashboard.json against a real EPP: every metric a panel's PromQL (or a template
 * variable's query) names must be one the EPP exports, as its /metrics lists them (# TYPE lines), with the
 * flow-control feature and program-aware fairness on so their families exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fakePods, startTestEpp } from '../helpers/ext-proc-harness.js';

const DASHBOARD = new URL('../../../examples/grafana/epp-dashboard.json', import.meta.url);

const PROMQL_WORDS = new Set([
  'sum', 'avg', 'max', 'min', 'count', 'rate', 'irate', 'increase', 'histogram_quantile', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
  'label_values', 'and', 'or', 'unless', 'le', 'offset', 'topk', 'bottomk', 'abs', 'clamp_min', 'clamp_max', 'delta', 'deriv', 'time', 'vector', 'scalar',
]);

/** Metric names in a PromQL expression: identifiers outside label matchers, groupings and range selectors. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range selectors
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ') // groupings
    .replace(/"[^"]*"/g, ' ');
  return [...new Set((stripped.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter((w) => !PROMQL_WORDS.has(w) && !/^\d/.test(w)))];
}

test('metricNames: PromQL functions, labels and ranges are not metrics', () => {
  assert.deepEqual(metricNames('histogram_quantile(0.9, sum by (le, priority) (rate(a_b_bucket{inference_pool=~"$pool"}[$__rate_interval])))'), ['a_b_bucket']);
  assert.deepEqual(metricNames('sum(rate(x_sum[5m])) / sum(rate(y_sum[5m]))'), ['x_sum', 'y_sum']);
  assert.deepEqual(metricNames('label_values(inference_pool_ready_pods, name)'), ['inference_pool_ready_pods', 'name']);
});

test('every metric the Grafana dashboard queries is one the EPP exports', async () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
    templating: { list: { name: string; query?: unknown }[] };
  };
  const fake = await fakePods([{ waiting: 1, kv: 0.2 }]);
  const t = await startTestEpp({
    endpoints: fake.pods,
    config: `featureGates: [flowControl]
plugins:
- type: queue-scorer
- type: program-aware-fairness
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
flowControl:
  enableEviction: true
  defaultPriorityBand: {fairnessPolicyRef: program-aware-fairness}
`,
  });
  try {
    const text = await (await fetch(`http://127.0.0.1:${t.epp.metricsPort}/metrics`)).text();
    const families = new Map(text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => [l.split(' ')[2]!, l.split(' ')[3]!]));
    const exported = (name: string) => {
      if (families.has(name)) return true;
      const base = name.replace(/_(bucket|sum|count)$/, '');
      return base !== name && families.get(base) === 'histogram';
    };
    const exprs = [
      ...dashboard.panels.flatMap((p) => p.targets.map((target) => ({ where: `panel "${p.title}"`, expr: target.expr }))),
      ...dashboard.templating.list.filter((v) => typeof v.query === 'string' && v.query.includes('(')).map((v) => ({ where: `variable $${v.name}`, expr: String(v.query) })),
    ];
    assert.ok(dashboard.panels.length >= 15, 'the dashboard has its panels');
    const missing: string[] = [];
    for (const { where, expr } of exprs) {
      assert.ok(metricNames(expr).length > 0, `${where}: no metric found in ${expr}`);
      for (const name of metricNames(expr)) {
        if (where.startsWith('variable') && name === 'name') continue; // label_values(metric, label)
        if (!exported(name)) missing.push(`${where}: ${name}`);
      }
    }
    assert.deepEqual(missing, [], 'metrics the EPP does not export');
  } finally {
    await t.close();
    await fake.close();
  }
});
