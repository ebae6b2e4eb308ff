/**
 * The plugin registry: plugin `type` → factory. One instance per process (or per test), filled by
 * `registerInTreePlugins(registry)`; out-of-tree plugins register the same way.
 */
import type { PluginRegistration } from './plugin.js';

/** Plugin types of the data layer's default metrics source and the mapper of its pages. */
export interface DefaultMetricsSource {
  readonly sourceType: string;
  readonly mapperType: string;
}

export class Registry {
  readonly #byType = new Map<string, PluginRegistration>();
  readonly #defaultProducers = new Map<string, string>();
  #defaultMetricsSource: DefaultMetricsSource | undefined;

  register(registration: PluginRegistration): void {
    if (this.#byType.has(registration.type)) {
      throw new Error(`plugin type "${registration.type}" is registered twice`);
    }
    this.#byType.set(registration.type, registration);
  }

  /** Names the producer type the loader adds when a consumer needs `dataKey` and nobody produces it. */
  registerDefaultProducer(dataKey: string, producerType: string): void {
    this.#defaultProducers.set(dataKey, producerType);
  }

  /**
   * Names the metrics source and mapper types the loader adds when a config names no `dataLayer.sources`
   * (and does not set `injectDefaults: false`), as the Go EPP injects its defaults.
   */
  registerDefaultMetricsSource(defaults: DefaultMetricsSource): void {
    this.#defaultMetricsSource = defaults;
  }

  defaultMetricsSource(): DefaultMetricsSource | undefined {
    return this.#defaultMetricsSource;
  }

  get(type: string): PluginRegistration | undefined {
    return this.#byType.get(type);
  }

  defaultProducerFor(dataKey: string): string | undefined {
    return this.#defaultProducers.get(dataKey);
  }

  types(): string[] {
    return [...this.#byType.keys()].sort();
  }
}
