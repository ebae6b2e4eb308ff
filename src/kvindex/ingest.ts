/**
 * Applies a pod's KV-event batches to the index, in order: BlockStored chains are re-keyed from their
 * token ids (an event whose parent the index does not know is an orphan and is skipped, as llm-d does),
 * BlockRemoved drops the engine hashes it names, AllBlocksCleared empties the pod. The sequence number of
 * each batch is checked: a number lower than the last one means the engine restarted (the pod's entries
 * are dropped: they describe a cache that no longer exists); a jump forward means batches were lost (PUB
 * drops past its high-water mark) and is counted.
 */
import type { BlockKeyer, ChainTail } from './block-keys.js';
import { decodeBatch, KvEventFormatError, topicModel } from './events.js';
import type { KvBlockIndex } from './kv-block-index.js';

export interface IngestStats {
  batches: number;
  events: number;
  orphans: number;
  gaps: number;
  restarts: number;
  malformed: number;
}

export class KvEventIngester {
  readonly stats: IngestStats = { batches: 0, events: 0, orphans: 0, gaps: 0, restarts: 0, malformed: 0 };
  readonly #index: KvBlockIndex;
  readonly #keyer: BlockKeyer;
  readonly #lastSeq = new Map<string, bigint>();
  readonly #onProblem: (pod: string, message: string) => void;

  constructor(index: KvBlockIndex, keyer: BlockKeyer, onProblem: (pod: string, message: string) => void = () => {}) {
    this.#index = index;
    this.#keyer = keyer;
    this.#onProblem = onProblem;
  }

  /** One `[topic, seq, payload]` message from `pod` (its `address:port`). */
  message(pod: string, topic: string, seq: bigint, payload: Uint8Array): void {
    const last = this.#lastSeq.get(pod);
    if (last !== undefined) {
      if (seq === last) return; // a duplicate
      if (seq < last) {
        this.stats.restarts++;
        this.#index.clear(pod);
        this.#onProblem(pod, `KV-event sequence went back from ${last} to ${seq}: the engine restarted; its entries were dropped`);
      } else if (seq > last + 1n) {
        this.stats.gaps++;
        this.#onProblem(pod, `KV-event batches ${last + 1n}..${seq - 1n} were lost`);
      }
    }
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
