import { TOKENIZED_PROMPT_KEY } from '../framework/request.js';
/** Registers every in-tree plugin. Out-of-tree plugins call `registry.register` the same way. */
import type { Registry } from '../framework/registry.js';
import { registration as queueScorer } from './queue-scorer/index.js';
import { registration as kvCacheUtilizationScorer, legacyRegistration as kvCacheScorer } from './kv-cache-utilization-scorer/index.js';
import { registration as runningRequestsSizeScorer } from './running-requests-size-scorer/index.js';
import { registration as loraAffinityScorer } from './lora-affinity-scorer/index.js';
import { registration as tokenLoadScorer } from './token-load-scorer/index.js';
import { registration as prefixCacheScorer } from './prefix-cache-scorer/index.js';
import { registration as approxPrefixCacheProducer, PREFIX_CACHE_MATCH_KEY } from './approx-prefix-cache-producer/index.js';
import { registration as maxScorePicker } from './max-score-picker/index.js';
import { registration as randomPicker } from './random-picker/index.js';
import { registration as weightedRandomPicker } from './weighted-random-picker/index.js';
import { registration as singleProfileHandler } from './single-profile-handler/index.js';
import { registration as fileDiscovery } from './file-discovery/index.js';
import { registration as k8sDiscovery } from './k8s-discovery/index.js';
import { registration as coreMetricsExtractor } from './core-metrics-extractor/index.js';
import { registration as metricsDataSource } from './metrics-data-source/index.js';
import { registration as openaiParser } from './openai-parser/index.js';
import { registration as passthroughParser } from './passthrough-parser/index.js';
import { registration as utilizationDetector } from './utilization-detector/index.js';
import { registration as tokenProducer, legacyRegistration as tokenizerAlias } from './token-producer/index.js';
import { registration as disaggProfileHandler } from './disagg-profile-handler/index.js';
import { registration as pdProfileHandler } from './pd-profile-handler/index.js';
import { registration as disaggHeadersHandler, legacyRegistration as prefillHeaderHandler } from './disagg-headers-handler/index.js';
import { registration as prefixBasedPdDecider } from './prefix-based-pd-decider/index.js';
import { registration as alwaysDisaggPdDecider } from './always-disagg-pd-decider/index.js';
import { registration as alwaysDisaggMultimodalDecider } from './always-disagg-multimodal-decider/index.js';
import { registration as decodeFilter } from './decode-filter/index.js';
import { registration as prefillFilter } from './prefill-filter/index.js';
import { registration as encodeFilter } from './encode-filter/index.js';
import { registration as byLabel } from './by-label-filter/index.js';
import { registration as labelSelectorFilter, legacyRegistration as byLabelSelector } from './label-selector-filter/index.js';
import { registration as loadAwareScorer } from './load-aware-scorer/index.js';
import { registration as activeRequestScorer } from './active-request-scorer/index.js';
import { registration as inflightLoadProducer, IN_FLIGHT_LOAD_KEY } from './inflight-load-producer/index.js';
import { registration as sessionAffinityScorer } from './session-affinity-scorer/index.js';
import { registration as noHitLruScorer } from './no-hit-lru-scorer/index.js';
import { registration as prefixCacheAffinityFilter } from './prefix-cache-affinity-filter/index.js';
import { registration as lowQueueFilter } from './low-queue-filter/index.js';
import { registration as loraAffinityFilter } from './lora-affinity-filter/index.js';
import { registration as leastQueueFilter } from './least-queue-filter/index.js';
import { registration as leastKvCacheFilter } from './least-kv-cache-filter/index.js';
import { registration as decisionTreeFilter } from './decision-tree-filter/index.js';
import { registration as concurrencyDetector } from './concurrency-detector/index.js';

import { registration as fcfsOrderingPolicy } from './fcfs-ordering-policy/index.js';
import { registration as edfOrderingPolicy } from './edf-ordering-policy/index.js';
import { registration as sloDeadlineOrderingPolicy } from './slo-deadline-ordering-policy/index.js';
import { registration as globalStrictFairnessPolicy } from './global-strict-fairness-policy/index.js';
import { registration as roundRobinFairnessPolicy } from './round-robin-fairness-policy/index.js';
import { registration as programAwareFairness } from './program-aware-fairness/index.js';
import { registration as precisePrefixCacheProducer } from './precise-prefix-cache-producer/index.js';
import { registration as endpointNotificationSource } from './endpoint-notification-source/index.js';
import { registration as probabilisticAdmitter } from './probabilistic-admitter/index.js';
import { registration as dataParallelProfileHandler } from './data-parallel-profile-handler/index.js';
import { registration as topologyExtractor } from './topology-extractor/index.js';
import { registration as mmEmbeddingsCacheProducer, MM_CACHE_MATCH_KEY } from './mm-embeddings-cache-producer/index.js';
import { registration as mmEmbeddingsCacheScorer } from './mm-embeddings-cache-scorer/index.js';
import { registration as dcgmDataSource } from './dcgm-data-source/index.js';
import { registration as burstPrefixCacheProducer } from './burst-prefix-cache-producer/index.js';
import { registration as dcgmExtractor } from './dcgm-extractor/index.js';
import { registration as endpointAttributeFilter } from './endpoint-attribute-filter/index.js';
import { registration as endpointAttributeScorer } from './endpoint-attribute-scorer/index.js';
import { registration as topologyAffinityFilter } from './topology-affinity-filter/index.js';
import { registration as topologyAffinityScorer } from './topology-affinity-scorer/index.js';
import { registration as staticUsageLimitPolicy } from './static-usage-limit-policy/index.js';
import { registration as priorityHoldbackPolicy } from './priority-holdback-policy/index.js';
import { registration as softReflectiveCeilingPolicy } from './soft-reflective-ceiling-policy/index.js';
/** llm-d's disaggregation and label plugins (P/D, E/P/D). */
const DISAGG_PLUGINS = [
  disaggProfileHandler,
  pdProfileHandler,
  disaggHeadersHandler,
  prefillHeaderHandler,
  prefixBasedPdDecider,
  alwaysDisaggPdDecider,
  alwaysDisaggMultimodalDecider,
  decodeFilter,
  prefillFilter,
  encodeFilter,
  byLabel,
  labelSelectorFilter,
  byLabelSelector,
];

/** llm-d's scorers and filters, GIE v0.5's filters, the concurrency detector. */
const CATALOGUE_PLUGINS = [
  loadAwareScorer,
  activeRequestScorer,
  inflightLoadProducer,
  sessionAffinityScorer,
  noHitLruScorer,
  prefixCacheAffinityFilter,
  lowQueueFilter,
  loraAffinityFilter,
  leastQueueFilter,
  leastKvCacheFilter,
  decisionTreeFilter,
  concurrencyDetector,
];

export function registerInTreePlugins(registry: Registry): Registry {
  for (const r of [
    queueScorer,
    kvCacheUtilizationScorer,
    kvCacheScorer,
    runningRequestsSizeScorer,
    loraAffinityScorer,
    tokenLoadScorer,
    prefixCacheScorer,
    approxPrefixCacheProducer,
    maxScorePicker,
    randomPicker,
    weightedRandomPicker,
    singleProfileHandler,
    fileDiscovery,
    k8sDiscovery,
    coreMetricsExtractor,
    metricsDataSource,
    openaiParser,
    passthroughParser,
    utilizationDetector,
    tokenProducer,
    tokenizerAlias,
    ...DISAGG_PLUGINS,
    ...CATALOGUE_PLUGINS,
    fcfsOrderingPolicy,
    edfOrderingPolicy,
    sloDeadlineOrderingPolicy,
    globalStrictFairnessPolicy,
    roundRobinFairnessPolicy,
    programAwareFairness,
    precisePrefixCacheProducer,
    endpointNotificationSource,
    probabilisticAdmitter,
    dataParallelProfileHandler,
    topologyExtractor,
    mmEmbeddingsCacheProducer,
    mmEmbeddingsCacheScorer,
    dcgmDataSource,
    burstPrefixCacheProducer,
    dcgmExtractor,
    endpointAttributeFilter,
    endpointAttributeScorer,
    topologyAffinityFilter,
    topologyAffinityScorer,
    staticUsageLimitPolicy,
    priorityHoldbackPolicy,
    softReflectiveCeilingPolicy,
  ]) {
    registry.register(r);
  }
  registry.registerDefaultProducer(PREFIX_CACHE_MATCH_KEY, approxPrefixCacheProducer.type);
  registry.registerDefaultProducer(IN_FLIGHT_LOAD_KEY, inflightLoadProducer.type);
  // llm-d creates a token producer (estimate backend) when a plugin needs tokens and none is configured.
  registry.registerDefaultProducer(TOKENIZED_PROMPT_KEY, tokenProducer.type);
  registry.registerDefaultProducer(MM_CACHE_MATCH_KEY, mmEmbeddingsCacheProducer.type);
  registry.registerDefaultMetricsSource({ sourceType: metricsDataSource.type, mapperType: coreMetricsExtractor.type });
  return registry;
}
