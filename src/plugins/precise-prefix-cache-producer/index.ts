/**
 * precise-prefix-cache-producer (llm-d): which pod really holds each block of the prompt, from the model
 * servers' KV-cache events rather than from what the EPP sent where. It subscribes to every pod's events
 * (or binds one endpoint they all publish to), keeps a KV-block index keyed by llm-d's block keys
 * (src/kvindex/), and for each request computes the keys of its token ids (from a token producer) and
 * writes the longest cached prefix per candidate as the prefix match the prefix-cache-scorer reads.
 * With `speculativeIndexing`, a routed request's blocks count as held by its pod for `speculativeTTL`, so a
 * burst of siblings sticks together before the confirming events arrive.
 */
import type { Endpoint, EndpointLifecycleListener } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { TaskRef, UsesWorkerTasks, WorkerTasks } from '../../framework/worker-tasks.js';
import type { BlockKeysInput } from '../../kvindex/keys-task.js';
import { TOKENIZED_PROMPT_KEY, type InferenceRequest } from '../../framework/request.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { DataProducer, PreRequest } from '../../framework/request-control.js';
import type { SchedulingResult } from '../../framework/scheduling.js';
import { PREFIX_CACHE_MATCH_KEY, PREFILL_PROFILE, writeMatchInfo, matchKeyOf, type PrefixMatchInfo } from '../approx-prefix-cache-producer/index.js';
import { BlockKeyer } from '../../kvindex/block-keys.js';
import { KvBlockIndex } from '../../kvindex/kv-block-index.js';
import { KvEventIngester } from '../../kvindex/ingest.js';
import { BoundSubscriber, PodSubscribers, replayFrom } from '../../kvindex/subscribers.js';
import { parametersSchema, preciseSettings, type PreciseSettings } from './params.js';

export const PRECISE_PREFIX_CACHE_PRODUCER = 'precise-prefix-cache-producer';

const NO_HASHES = new Float64Array(0);
const KEYS_TASK: TaskRef = { module: new URL('../../kvindex/keys-task.js', import.meta.url).href, name: 'blockKeys' };
/**
 * Prompts with at least this many tokens have their block keys computed on the worker pool (when it has
 * threads): ~3.5 µs a block of JavaScript hashing, so 8,192 tokens cost ~1.8 ms on the event loop, more
 * than a hand-off; shorter prompts are keyed inline.
 */
export const POOL_KEYS_FROM_TOKENS = 8192;

export class PrecisePrefixCacheProducer implements DataProducer, PreRequest, EndpointLifecycleListener, UsesWorkerTasks {
  readonly usesWorkerTasks = true as const;
  readonly type = PRECISE_PREFIX_CACHE_PRODUCER;
  readonly produces = [PREFIX_CACHE_MATCH_KEY] as const;
  readonly consumes = [TOKENIZED_PROMPT_KEY] as const;
  readonly settings: PreciseSettings;
  readonly index: KvBlockIndex;
  readonly keyer: BlockKeyer;
  readonly ingester: KvEventIngester;
  /** Resolves once the central endpoint is bound (at once in discovery mode); rejects when it cannot bind. */
  readonly ready: Promise<void>;
  readonly #pods: PodSubscribers;
  #bound: BoundSubscriber | undefined;
  #closed = false;
  #matchKey: string | undefined;
  /** Endpoint key → its `address:port`, for removals (which arrive by key). */
  readonly #hostPorts = new Map<string, string>();
  /** `address:port` → address, for the replay socket. */
  readonly #addresses = new Map<string, string>();
  /** Request id → its block keys, for speculative entries at PreRequest (short-lived). */
  readonly #pending = new Map<string, Float64Array>();
  readonly #now: () => number;

  constructor(
    readonly name: string,
    settings: PreciseSettings,
    warn: (m: string) => void,
    now: () => number = Date.now,
    readonly tasks?: WorkerTasks,
  ) {
    this.settings = settings;
    this.#now = now;
    this.keyer = new BlockKeyer({ blockSize: settings.blockSize, hashSeed: settings.hashSeed });
    this.index = new KvBlockIndex({ size: settings.size, podCacheSize: settings.podCacheSize, tierWeights: settings.tierWeights, now });
    // Per pod at most one warning a minute: a pod publishing garbage must not flood the log.
    const warnedAt = new Map<string, number>();
    const problem = (pod: string, m: string) => {
      const t = now();
      if ((warnedAt.get(pod) ?? -Infinity) > t - 60_000) return;
      warnedAt.set(pod, t);
      warn(m);
    };
    // Replay from each pod's ROUTER socket (discovery mode with replaySocketPort): its address is known there.
    const replay =
      settings.replaySocketPort > 0 && !settings.zmqEndpoint
        ? (pod: string, from: bigint) => {
            const address = this.#addresses.get(pod);
            if (address === undefined) return Promise.reject(new Error('the pod left'));
            return replayFrom(`tcp://${address.includes(':') ? `[${address}]` : address}:${settings.replaySocketPort}`, from);
          }
        : undefined;
    this.ingester = new KvEventIngester(this.index, this.keyer, problem, replay);
    const onMessage = (pod: string, topic: string, seq: bigint, payload: Uint8Array) => this.ingester.message(pod, topic, seq, payload);
    this.#pods = new PodSubscribers(settings.topicFilter, onMessage, (m) => warn(m));
    if (settings.zmqEndpoint) {
      this.ready = BoundSubscriber.bind(settings.zmqEndpoint, settings.topicFilter, onMessage, (m) => warn(m)).then((b) => {
        if (this.#closed) b.close();
        else this.#bound = b;
      });
      this.ready.catch((err: Error) => warn(err.message));
    } else this.ready = Promise.resolve();
  }

  /** The bound central endpoint, once bound. */
  get boundEndpoint(): string | undefined {
    return this.#bound?.endpoint;
  }

  get subscribedPods(): number {
    return this.#pods.size;
  }

  endpointAdded(endpoint: Endpoint): void {
    this.#hostPorts.set(endpoint.key, endpoint.hostPort);
    this.#addresses.set(endpoint.hostPort, endpoint.metadata.address);
    if (this.settings.zmqEndpoint || !this.settings.discoverPods || this.#closed) return;
    this.#pods.add(endpoint.hostPort, `tcp://${endpoint.metadata.address.includes(':') ? `[${endpoint.metadata.address}]` : endpoint.metadata.address}:${this.settings.socketPort}`);
  }

  endpointRemoved(key: string): void {
    const pod = this.#hostPorts.get(key);
    if (pod === undefined) return;
    this.#hostPorts.delete(key);
    this.#addresses.delete(pod);
    this.#pods.remove(pod);
    this.ingester.forget(pod);
    this.index.clear(pod);
  }

  produce(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState): void | Promise<void> {
    const prompt = request.tokenizedPrompt;
    const tokens = prompt?.prompts[0]?.tokenIds;
    if (!tokens || tokens.length < this.keyer.blockSize) return;
    if (this.tasks && this.tasks.threads > 0 && tokens.length >= POOL_KEYS_FROM_TOKENS) {
      const input: BlockKeysInput = { blockSize: this.keyer.blockSize, hashSeed: this.settings.hashSeed, model: request.targetModel, tokens: Uint32Array.from(tokens), salt: prompt!.cacheSalt };
      return this.tasks.run<BlockKeysInput, Float64Array>(KEYS_TASK, input).then((keys) => this.#match(request, candidates, cycleState, keys));
    }
    this.#match(request, candidates, cycleState, this.keyer.chain(request.targetModel, tokens, { saltOnFirst: prompt!.cacheSalt || undefined }).keys);
  }

  #match(request: InferenceRequest, candidates: readonly Endpoint[], cycleState: CycleState, keys: Float64Array): void {
    const match = this.index.match(keys, candidates.map((c) => c.hostPort));
    const matched = new Int32Array(candidates.length);
    candidates.forEach((c, i) => (matched[i] = Math.trunc(match.get(c.hostPort)?.weighted ?? 0)));
    const info: PrefixMatchInfo = { hashes: NO_HASHES, totalBlocks: keys.length, candidates, matched, blockTokens: this.keyer.blockSize };
    writeMatchInfo(cycleState, (this.#matchKey ??= matchKeyOf(this.name)), info);
    if (this.settings.speculativeIndexing) {
      this.#pending.set(request.requestId, keys);
      if (this.#pending.size > 10_000) this.#pending.delete(this.#pending.keys().next().value!);
    }
  }

  preRequest(request: InferenceRequest, result: SchedulingResult): void {
    const keys = this.#pending.get(request.requestId);
    if (!keys) return;
    this.#pending.delete(request.requestId);
    const until = this.#now() + this.settings.speculativeTtlMs;
    const primary = result.profileResults.get(result.primaryProfileName)?.targetEndpoints[0]?.endpoint;
    if (primary) this.index.speculate(primary.hostPort, keys, until);
    const prefill = result.primaryProfileName !== PREFILL_PROFILE ? result.profileResults.get(PREFILL_PROFILE)?.targetEndpoints[0]?.endpoint : undefined;
    if (prefill) this.index.speculate(prefill.hostPort, keys, until);
  }

  /** Closes every socket (EPP shutdown). */
  close(): void {
    this.#closed = true;
    this.#pods.close();
    this.#bound?.close();
    this.#bound = undefined;
  }
}

export const registration: PluginRegistration = {
  type: PRECISE_PREFIX_CACHE_PRODUCER,
  parameters: parametersSchema,
  factory: (name, parameters, handle) => new PrecisePrefixCacheProducer(name, preciseSettings(parameters, handle.warn), handle.warn, handle.services.now, handle.services.workerTasks),
};
