/**
 * Applies a pod's KV-event batches to the index, in order: BlockStored chains are re-keyed from their
 * token ids (an event whose parent the index does not know is an orphan and is skipped, as llm-d does),
 * BlockRemoved drops the engine hashes it names, AllBlocksCleared empties the pod. The sequence number of
 * each batch is checked: a number lower than the last one means the engine restarted (the pod's entries
 * are dropped: they describe a cache that no longer exists); a jump forward means batches were lost (PUB
 * drops past its high-water mark) and is counted. With a replayer (the pods' ROUTER sockets), a gap, a
 * restart mid-sequence or a pod first heard of past seq 0 fetches the missed batches instead, while that
 * pod's live messages wait; when the replay fails the pod's entries are dropped.
 */
import type { BlockKeyer, ChainTail } from './block-keys.js';
import { decodeBatch, KvEventFormatError, topicModel } from './events.js';
import type { KvBlockIndex } from './kv-block-index.js';

export interface IngestStats {
  batches: number;
  replays: number;
  replayFailures: number;
  events: number;
  orphans: number;
  gaps: number;
  restarts: number;
  malformed: number;
}

/** Fetches a pod's buffered batches from a sequence number, in order. */
export type Replayer = (pod: string, from: bigint) => Promise<readonly [string, bigint, Uint8Array][]>;

export class KvEventIngester {
  readonly stats: IngestStats = { batches: 0, replays: 0, replayFailures: 0, events: 0, orphans: 0, gaps: 0, restarts: 0, malformed: 0 };
  readonly #index: KvBlockIndex;
  readonly #keyer: BlockKeyer;
  readonly #lastSeq = new Map<string, bigint>();
  readonly #onProblem: (pod: string, message: string) => void;

  /** Pods being replayed: live messages that arrive meanwhile wait here, in order. */
  readonly #replaying = new Map<string, [string, bigint, Uint8Array][]>();
  readonly #replay: Replayer | undefined;

  /**
   * `replay`: fetches a pod's buffered batches from a sequence number (its ROUTER socket), when the
   * producer has `replaySocketPort`; without it a gap is only counted and a restart drops the pod's entries.
   */
  constructor(index: KvBlockIndex, keyer: BlockKeyer, onProblem: (pod: string, message: string) => void = () => {}, replay?: Replayer) {
    this.#index = index;
    this.#keyer = keyer;
    this.#onProblem = onProblem;
    this.#replay = replay;
  }

  /** Pods being replayed now. */
  get replaying(): number {
    return this.#replaying.size;
  }

  /** One `[topic, seq, payload]` message from `pod` (its `address:port`). */
  message(pod: string, topic: string, seq: bigint, payload: Uint8Array): void {
    const waiting = this.#replaying.get(pod);
    if (waiting) {
      waiting.push([topic, seq, payload]);
      return;
    }
    const last = this.#lastSeq.get(pod);
    if (last !== undefined && seq === last) return; // a duplicate
    if (last !== undefined && seq < last) {
      this.stats.restarts++;
      this.#index.clear(pod);
      this.#lastSeq.delete(pod);
      this.#onProblem(pod, `KV-event sequence went back from ${last} to ${seq}: the engine restarted; its entries were dropped`);
      if (this.#replay && seq > 0n) return this.#startReplay(pod, 0n, [topic, seq, payload]);
    } else if (last !== undefined && seq > last + 1n) {
      if (this.#replay) return this.#startReplay(pod, last + 1n, [topic, seq, payload]);
      this.stats.gaps++;
      this.#onProblem(pod, `KV-event batches ${last + 1n}..${seq - 1n} were lost`);
    } else if (last === undefined && seq > 0n && this.#replay) {
      return this.#startReplay(pod, 0n, [topic, seq, payload]); // joined late: fetch what came before
    }
    this.#apply(pod, topic, seq, payload);
  }

  #startReplay(pod: string, from: bigint, first: [string, bigint, Uint8Array]): void {
    const waiting: [string, bigint, Uint8Array][] = [first];
    this.#replaying.set(pod, waiting);
    this.stats.replays++;
    this.#replay!(pod, from).then(
      (batches) => {
        for (const [topic, seq, payload] of batches) this.#apply(pod, topic, seq, payload);
      },
      (err: Error) => {
        // The pod cannot replay: what the index holds for it may be wrong, so it goes.
        this.stats.replayFailures++;
        this.#index.clear(pod);
        this.#onProblem(pod, `KV-event replay from ${from} failed (${err.message}); the pod's entries were dropped`);
      },
    ).finally(() => {
      this.#replaying.delete(pod);
      for (const [topic, seq, payload] of waiting) {
        const last = this.#lastSeq.get(pod);
        if (last === undefined || seq > last) this.#apply(pod, topic, seq, payload);
      }
    });
  }

  #apply(pod: string, topic: string, seq: bigint, payload: Uint8Array): void {
    this.#lastSeq.set(pod, seq);
    let batch;
    try {
      batch = decodeBatch(payload);
    } catch (err) {
      this.stats.malformed++;
      this.#onProblem(pod, `malformed KV-event batch: ${err instanceof KvEventFormatError ? err.message : String(err)}`);
      return;
    }
    this.stats.batches++;
    const model = topicModel(topic);
    for (const e of batch.events) {
      this.stats.events++;
      if (e.kind === 'cleared') this.#index.clear(pod);
      else if (e.kind === 'removed') this.#index.removed(pod, e.hashes.map(foldHash), e.tier);
      else {
        let parent: ChainTail | undefined;
        if (e.parent !== undefined) {
          parent = this.#index.parentOf(pod, foldHash(e.parent));
          if (!parent) {
            this.stats.orphans++;
            continue;
          }
        }
        const tails: ChainTail[] = [];
        const { keys } = e.tokens.length > 0 ? this.#keyer.chain(e.loraName ?? model, e.tokens, { parent, onFull: (hi, lo) => tails.push({ hi, lo }) }) : { keys: new Float64Array(0) };
        this.#index.stored(pod, e.hashes.map(foldHash), keys, e.tier, tails);
      }
    }
  }

  /** The pod left: forget its sequence. */
  forget(pod: string): void {
    this.#lastSeq.delete(pod);
  }
}

/** An engine hash in the index's 53-bit form (engine hashes are only ever compared within one pod). */
export const foldHash = (h: bigint): number => Number(h & 0x1fffffffffffffn);
