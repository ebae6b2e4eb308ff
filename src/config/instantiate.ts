/**
 * Phase 2: a validated RawConfig → plugin instances, profiles and request-control lists, with the Go EPP's
 * defaulting rules (reference/plugins.md, "Config defaulting").
 */
import { isReferencingPlugin, type Plugin, type PluginHandle, type PluginServices } from '../framework/plugin.js';
import type { Registry } from '../framework/registry.js';
import { isEndpointLifecycleListener, type EndpointLifecycleListener } from '../framework/endpoint.js';
import { isAttributeSource, isNotificationSource } from '../framework/datalayer.js';
import {
  isFilter,
  isPicker,
  isProfileHandler,
  isScorer,
  type Filter,
  type Picker,
  type SchedulerProfile,
  type WeightedScorer,
} from '../framework/scheduling.js';
import {
  isAdmitter,
  isDataConsumer,
  isDataProducer,
  isPreRequest,
  isResponseComplete,
  isResponseReceived,
  isResponseStreaming,
  type Admitter,
  type DataProducer,
  type PreRequest,
  type ResponseComplete,
  type ResponseReceived,
  type ResponseStreaming,
} from '../framework/request-control.js';
import type { SchedulerConfig } from '../scheduling/scheduler.js';
import { ConfigError } from '../errors.js';
import type { RawConfig, RawSchedulingProfile } from './schema.js';
import { DEFAULT_PICKER, DEFAULT_PROFILE_HANDLER, DEFAULT_PROFILE_NAME } from './defaults.js';
import { parseFeatureGates } from './feature-gates.js';
import { orderProducers } from './producer-order.js';
import { didYouMean } from './did-you-mean.js';
import type { Locate } from './locate.js';

export interface ConfigLogger {
  warn(message: string): void;
  info?(message: string): void;
}

export interface LoadedConfig {
  /** Every plugin by name: the configured ones in order, then those the defaulting rules added. */
  readonly plugins: ReadonlyMap<string, Plugin>;
  readonly scheduler: SchedulerConfig;
  /** In dependency order. */
  readonly producers: readonly DataProducer[];
  readonly preRequests: readonly PreRequest[];
  readonly responseReceived: readonly ResponseReceived[];
  readonly responseStreaming: readonly ResponseStreaming[];
  readonly responseComplete: readonly ResponseComplete[];
  readonly admitters: readonly Admitter[];
  readonly endpointListeners: readonly (Plugin & EndpointLifecycleListener)[];
  readonly featureGates: ReadonlyMap<string, boolean>;
  /**
   * Names of the metrics source and mapper the loader added from the registry's defaults: both when the
   * config names no data source (unless `injectDefaults: false`), the mapper alone when its source names
   * no extractor.
   */
  readonly defaultMetricsSource: { readonly source?: string; readonly mapper?: string };
  /**
   * Which `dataLayer.sources` (or `data.sources`) entry is the metrics source: the first that is not an
   * attribute source (a GPU exporter does not replace it, llm-d's rule); -1 when none is.
   */
  readonly metricsSourceIndex: number;
  /** The sections later layers read (data layer, saturation, flow control, parser). */
  readonly raw: RawConfig;
  /** Where the config came from: a file path, `--config-text`, or the default config (set by loadConfig). */
  readonly origin?: string;
  /** The same error placed in the config's text (`file:line: path: …`); set by loadConfig. */
  readonly locate?: (err: ConfigError) => ConfigError;
}

class PluginSet {
  readonly byName = new Map<string, Plugin>();
  readonly #where = new Map<string, string>();

  constructor(
    private readonly registry: Registry,
    private readonly services: PluginServices,
    private readonly logger: ConfigLogger,
    private readonly locate: Locate = () => undefined,
  ) {}

  /** Instantiates `type` as `name`; `path` locates the config entry in errors. */
  create(type: string, name: string, parameters: unknown, path: string): Plugin {
    const previous = this.#where.get(name);
    if (previous !== undefined) throw new ConfigError(`${path}.name`, `duplicate plugin name "${name}" (also ${previous})`);
    const registration = this.registry.get(type);
    if (!registration) {
      const close = didYouMean(type, this.registry.types());
      throw new ConfigError(`${path}.type`, `unknown plugin type "${type}"${close || ` (known types: ${this.registry.types().join(', ')})`}`);
    }
    let params = parameters;
    const where = (at: string) => {
      const location = this.locate(at);
      return location ? `${location}: ` : '';
    };
    if (registration.takesNoParameters && params !== undefined && params !== null) {
      this.logger.warn(`${where(`${path}.parameters`)}plugin "${name}" (${type}) takes no parameters; the given parameters are ignored`);
      params = undefined;
    }
    const schema = registration.parameters;
    // A strict schema (z.strictObject) makes unknown keys the factory's error, not a warning.
    const strict = (schema?._zod.def.catchall as { _zod?: { def: { type: string } } } | undefined)?._zod?.def.type === 'never';
    if (schema && !strict && params && typeof params === 'object' && !Array.isArray(params)) {
      const known = Object.keys(schema.shape);
      for (const key of Object.keys(params)) {
        if (known.includes(key)) continue;
        const hint = didYouMean(key, known) || (known.length ? ` (known: ${known.join(', ')})` : ' (it takes none)');
        this.logger.warn(`${where(`${path}.parameters.${key}`)}plugin "${name}" (${type}): unknown parameter "${key}"${hint}; ignored`);
      }
    }
    const handle: PluginHandle = {
      warn: (m) => this.logger.warn(`plugin "${name}" (${type}): ${m}`),
      plugin: (n) => this.byName.get(n),
      services: this.services,
    };
    let plugin: Plugin;
    try {
      plugin = registration.factory(name, params, handle);
    } catch (err) {
      if (err instanceof ConfigError) {
        const under = err.under(path);
        throw new ConfigError(under.path, `plugin "${name}" (${type}): ${err.detail}`, err.location);
      }
      throw new ConfigError(path, `plugin "${name}" (${type}) failed to start: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.byName.set(name, plugin);
    this.#where.set(name, path);
    return plugin;
  }

  /** The plugin named `type` if it is of that type, else a new default instance of it. */
  defaultOf(type: string, why: string): Plugin {
    const existing = this.byName.get(type);
    if (existing) {
      if (existing.type !== type) throw new ConfigError('plugins', `a plugin named "${type}" is of type "${existing.type}", but ${why} needs the default ${type}`);
      return existing;
    }
    return this.create(type, type, undefined, `(default ${type})`);
  }

  all(): Plugin[] {
    return [...this.byName.values()];
  }

  /** Lets plugins that name other plugins resolve them now that all exist; errors point at the plugin's entry. */
  resolveReferences(): void {
    for (const [name, plugin] of this.byName) {
      if (!isReferencingPlugin(plugin)) continue;
      try {
        plugin.resolveReferences();
      } catch (err) {
        const path = this.#where.get(name) ?? name;
        if (err instanceof ConfigError) {
          const under = err.under(path);
          throw new ConfigError(under.path, `plugin "${name}" (${plugin.type}): ${err.detail}`, err.location);
        }
        throw new ConfigError(path, `plugin "${name}" (${plugin.type}): ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

function buildProfiles(raw: RawConfig, set: PluginSet): SchedulerProfile[] {
  let rawProfiles: RawSchedulingProfile[] = raw.schedulingProfiles ?? [];
  if (rawProfiles.length === 0) {
    const slotted = set.all().filter((p) => isFilter(p) || isScorer(p) || isPicker(p));
    rawProfiles = [{ name: DEFAULT_PROFILE_NAME, plugins: slotted.map((p) => ({ pluginRef: p.name })) }];
  }
  const seen = new Map<string, number>();
  return rawProfiles.map((rp, i) => {
    const at = `schedulingProfiles[${i}]`;
    if (!rp.name) throw new ConfigError(`${at}.name`, 'a profile needs a name');
    if (seen.has(rp.name)) throw new ConfigError(`${at}.name`, `duplicate profile name "${rp.name}" (also schedulingProfiles[${seen.get(rp.name)}])`);
    seen.set(rp.name, i);
    const filters: Filter[] = [];
    const scorers: WeightedScorer[] = [];
    let picker: Picker | undefined;
    (rp.plugins ?? []).forEach((entry, j) => {
      const refPath = `${at}.plugins[${j}].pluginRef`;
      const plugin = set.byName.get(entry.pluginRef);
      if (!plugin) throw new ConfigError(refPath, `no plugin named "${entry.pluginRef}"`);
      let slotted = false;
      if (isFilter(plugin)) {
        filters.push(plugin);
        slotted = true;
      }
      if (isScorer(plugin)) {
        scorers.push({ scorer: plugin, weight: entry.weight ?? 1 });
        slotted = true;
      }
      if (isPicker(plugin)) {
        if (picker) throw new ConfigError(at, `profile "${rp.name}" has more than one picker ("${picker.name}" and "${plugin.name}")`);
        picker = plugin;
        slotted = true;
      }
      if (!slotted) throw new ConfigError(refPath, `plugin "${plugin.name}" (${plugin.type}) is not a filter, scorer or picker`);
    });
    picker ??= set.defaultOf(DEFAULT_PICKER, `profile "${rp.name}" without a picker`) as Picker;
    return { name: rp.name, filters, scorers, picker };
  });
}

function chooseHandler(set: PluginSet, profiles: readonly SchedulerProfile[]) {
  const handlers = set.all().filter(isProfileHandler);
  if (handlers.length > 1) {
    throw new ConfigError('plugins', `exactly one profile handler is allowed, found ${handlers.length}: ${handlers.map((h) => `"${h.name}"`).join(', ')}`);
  }
  if (handlers.length === 0) {
    if (profiles.length > 1) {
      throw new ConfigError('plugins', `${profiles.length} scheduling profiles need a profile handler plugin; none is configured`);
    }
    handlers.push(set.defaultOf(DEFAULT_PROFILE_HANDLER, 'a config without a profile handler') as (typeof handlers)[number]);
  }
  const handler = handlers[0]!;
  if (handler.type === DEFAULT_PROFILE_HANDLER && profiles.length > 1) {
    throw new ConfigError('schedulingProfiles', `${DEFAULT_PROFILE_HANDLER} "${handler.name}" serves one profile, but ${profiles.length} are configured`);
  }
  const problem = handler.checkProfiles?.(new Set(profiles.map((p) => p.name)));
  if (problem) throw new ConfigError('schedulingProfiles', problem);
  return handler;
}

/** Adds the registry's default producer for every consumed key that no plugin produces. */
function addDefaultProducers(set: PluginSet, registry: Registry, logger: ConfigLogger): DataProducer[] {
  const produced = new Set(set.all().filter(isDataProducer).flatMap((p) => p.produces));
  for (const consumer of set.all()) {
    if (!isDataConsumer(consumer)) continue;
    for (const key of consumer.consumes) {
      if (produced.has(key)) continue;
      const type = registry.defaultProducerFor(key);
      if (!type) throw new ConfigError('plugins', `plugin "${consumer.name}" needs data "${key}" that no configured plugin produces`);
      const producer = set.defaultOf(type, `plugin "${consumer.name}"`);
      if (isDataProducer(producer)) for (const k of producer.produces) produced.add(k);
    }
  }
  const producers = set.all().filter(isDataProducer);
  // Two producers of one key: the later one's data is what consumers read. Legitimate (a scorer's own
  // index beside a producer) but rarely meant, so said once.
  const byKey = new Map<string, string[]>();
  for (const p of producers) for (const k of p.produces) byKey.set(k, [...(byKey.get(k) ?? []), p.name]);
  for (const [key, names] of byKey) {
    if (names.length > 1) logger.warn(`plugins ${names.map((n) => `"${n}"`).join(', ')} all produce "${key}"; a consumer naming no producer reads what "${names.at(-1)}" writes (the last in config order)`);
  }
  return orderProducers(producers);
}

/** Plugins the flow-control and saturation sections may name without defining (the runtime supplies them, as llm-d's loader does). */
const INJECTED_DEFAULTS = new Set(['fcfs-ordering-policy', 'global-strict-fairness-policy', 'static-usage-limit-policy', 'utilization-detector']);

/** Every pluginRef outside the profiles must name a defined plugin; their kinds are checked by their layers. */
function checkRefs(raw: RawConfig, set: PluginSet): void {
  const refs: [string, string | undefined][] = [
    ['parser.pluginRef', raw.parser?.pluginRef],
    ['saturationDetector.pluginRef', raw.saturationDetector?.pluginRef],
    ['dataLayer.discovery.pluginRef', raw.dataLayer?.discovery?.pluginRef],
    ['dataLayer.peerDiscovery.pluginRef', raw.dataLayer?.peerDiscovery?.pluginRef],
    ['dataLayer.crossReplicaSyncerPluginRef', raw.dataLayer?.crossReplicaSyncerPluginRef],
    ['flowControl.saturationDetector.pluginRef', raw.flowControl?.saturationDetector?.pluginRef],
    ['flowControl.usageLimitPolicyPluginRef', raw.flowControl?.usageLimitPolicyPluginRef],
  ];
  raw.requestHandler?.parsers?.forEach((p, i) => refs.push([`requestHandler.parsers[${i}].pluginRef`, p.pluginRef]));
  for (const [section, sources] of [['dataLayer', raw.dataLayer?.sources], ['data', raw.data?.sources]] as const) {
    sources?.forEach((s, i) => {
      refs.push([`${section}.sources[${i}].pluginRef`, s.pluginRef]);
      s.extractors?.forEach((e, j) => refs.push([`${section}.sources[${i}].extractors[${j}].pluginRef`, e.pluginRef]));
    });
  }
  for (const [path, name] of refs) {
    if (name && !set.byName.has(name) && !(INJECTED_DEFAULTS.has(name) && (path.startsWith('flowControl.') || path.startsWith('saturationDetector.')))) {
      throw new ConfigError(path, `no plugin named "${name}"`);
    }
  }
}

/**
 * Which entry of the data sources is the metrics source: the first that is neither an attribute source
 * nor a notification-only one, wherever it is listed (llm-d takes them in any order). -1: none.
 */
function metricsSourceIndexOf(raw: RawConfig, set: PluginSet): number {
  return (raw.dataLayer?.sources ?? raw.data?.sources ?? []).findIndex((s) => {
    const p = set.byName.get(s.pluginRef)!;
    return !isAttributeSource(p) && !isNotificationSource(p);
  });
}

/** The registry's default metrics source and mapper, added when the config names no data source. */

function addDefaultMetricsSource(raw: RawConfig, set: PluginSet, registry: Registry, metricsSourceIndex: number): LoadedConfig['defaultMetricsSource'] {
  const sources = raw.dataLayer?.sources ?? raw.data?.sources ?? [];
  const defaults = registry.defaultMetricsSource();
  if (!defaults) return {};
  const mapper = () => set.defaultOf(defaults.mapperType, 'the data layer').name;
  const metrics = sources[metricsSourceIndex];
  if (metrics) return metrics.extractors?.length ? {} : { mapper: mapper() };
  if (raw.dataLayer?.injectDefaults === false) return {};
  return { source: set.defaultOf(defaults.sourceType, 'the data layer').name, mapper: mapper() };
}

/** `locate` turns a config path into `file:line` for warnings; errors are located by the caller. */
export function instantiateConfig(raw: RawConfig, registry: Registry, services: PluginServices, logger: ConfigLogger, locate?: Locate): LoadedConfig {
  const featureGates = parseFeatureGates(raw.featureGates);
  const set = new PluginSet(registry, services, logger, locate);
  (raw.plugins ?? []).forEach((spec, i) => set.create(spec.type, spec.name || spec.type, spec.parameters, `plugins[${i}]`));
  set.resolveReferences();
  checkRefs(raw, set);
  const profiles = buildProfiles(raw, set);
  const profileHandler = chooseHandler(set, profiles);
  const producers = addDefaultProducers(set, registry, logger);
  const metricsSourceIndex = metricsSourceIndexOf(raw, set);
  const defaultMetricsSource = addDefaultMetricsSource(raw, set, registry, metricsSourceIndex);
  const all = set.all();
  return {
    plugins: set.byName,
    scheduler: { profileHandler, profiles },
    producers,
    preRequests: all.filter(isPreRequest),
    responseReceived: all.filter(isResponseReceived),
    responseStreaming: all.filter(isResponseStreaming),
    responseComplete: all.filter(isResponseComplete),
    admitters: all.filter(isAdmitter),
    endpointListeners: all.filter((p): p is Plugin & EndpointLifecycleListener => isEndpointLifecycleListener(p)),
    featureGates,
    defaultMetricsSource,
    metricsSourceIndex,
    raw,
  };
}
