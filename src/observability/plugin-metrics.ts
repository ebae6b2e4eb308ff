/** PluginMetrics (framework/plugin.ts) on a prom-client registry: counters and gauges created once per name. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PluginCounter, PluginGauge, PluginMetrics } from '../framework/plugin.js';

export function promPluginMetrics(registry: Registry): PluginMetrics {
  const counters = new Map<string, PluginCounter>();
  const gauges = new Map<string, PluginGauge>();
  return {
    counter(name, help, labelNames) {
      let counter = counters.get(name);
      if (!counter) {
        const c = new Counter({ name, help, labelNames: [...labelNames], registers: [registry] });
        counter = { inc: (values, by = 1) => c.inc(Object.fromEntries(labelNames.map((l, i) => [l, values[i] ?? ''])), by) };
        counters.set(name, counter);
      }
      return counter;
    },
    gauge(name, help, labelNames, collect) {
      let gauge = gauges.get(name);
      if (!gauge) {
        const labels = (values: readonly string[]) => Object.fromEntries(labelNames.map((l, i) => [l, values[i] ?? '']));
        const view: PluginGauge = {
          set: (values, value) => g.set(labels(values), value),
          remove: (values) => g.remove(labels(values)),
        };
        const g: Gauge = new Gauge({ name, help, labelNames: [...labelNames], registers: [registry], ...(collect ? { collect: () => collect(view) } : {}) });
        gauge = view;
        gauges.set(name, gauge);
      }
      return gauge;
    },
  };
}
