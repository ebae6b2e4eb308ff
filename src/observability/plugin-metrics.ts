/** PluginMetrics (framework/plugin.ts) on a prom-client registry: counters created once per name. */
import { Counter, type Registry } from 'prom-client';
import type { PluginCounter, PluginMetrics } from '../framework/plugin.js';

export function promPluginMetrics(registry: Registry): PluginMetrics {
  const counters = new Map<string, PluginCounter>();
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
  };
}
