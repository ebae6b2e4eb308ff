/**
 * ZMQ SUB sockets reading vLLM's KV events: one per pod, dialled at `tcp://<address>:<socketPort>` as
 * discovery reports the pod (llm-d's default), or one bound socket every pod connects to (`zmqEndpoint`,
 * central mode: the pod is the topic's `kv@<pod>@<model>` part, which must be the pod's `address:port`).
 * Frames other than `[topic, seq (8 B big-endian), payload]` are dropped. Closing a pod's socket ends its
 * read loop; nothing is left open after `close()`.
 */
import * as zmq from 'zeromq';
import { topicPod } from './events.js';

export type KvMessageHandler = (pod: string, topic: string, seq: bigint, payload: Uint8Array) => void;

/** The SUB receive high-water mark: vLLM's PUB keeps 100,000 and ZMQ's default of 1,000 drops bursts. */
const RECEIVE_HWM = 100_000;

async function readLoop(sub: zmq.Subscriber, podOf: (topic: string) => string, onMessage: KvMessageHandler, onProblem: (message: string) => void): Promise<void> {
  try {
    for await (const frames of sub) {
      if (frames.length !== 3 || frames[1]!.length !== 8) continue;
      const topic = frames[0]!.toString('latin1');
      const pod = podOf(topic);
      if (!pod) continue;
      onMessage(pod, topic, frames[1]!.readBigUInt64BE(0), frames[2]!);
    }
  } catch (err) {
    if (!sub.closed) onProblem(`KV-event subscriber stopped: ${(err as Error).message}`);
  }
}

export class PodSubscribers {
  readonly #subs = new Map<string, zmq.Subscriber>();
  readonly #topicFilter: string;
  readonly #onMessage: KvMessageHandler;
  readonly #onProblem: (message: string) => void;

  constructor(topicFilter: string, onMessage: KvMessageHandler, onProblem: (message: string) => void) {
    this.#topicFilter = topicFilter;
    this.#onMessage = onMessage;
    this.#onProblem = onProblem;
  }

  get size(): number {
    return this.#subs.size;
  }

  /** Starts reading `pod` (its `address:port`) from `endpoint` (`tcp://host:port`). */
  add(pod: string, endpoint: string): void {
    if (this.#subs.has(pod)) return;
    const sub = new zmq.Subscriber({ receiveHighWaterMark: RECEIVE_HWM, linger: 0 });
    sub.connect(endpoint);
    sub.subscribe(this.#topicFilter);
    this.#subs.set(pod, sub);
    void readLoop(sub, () => pod, this.#onMessage, (m) => this.#onProblem(`${pod}: ${m}`));
  }

  remove(pod: string): void {
    const sub = this.#subs.get(pod);
    if (!sub) return;
    this.#subs.delete(pod);
    sub.close();
  }

  close(): void {
    for (const pod of [...this.#subs.keys()]) this.remove(pod);
  }
}

/** Central mode: one SUB bound at `endpoint`; pods connect their PUB to it. */
export class BoundSubscriber {
  readonly #sub = new zmq.Subscriber({ receiveHighWaterMark: RECEIVE_HWM, linger: 0 });

  static async bind(endpoint: string, topicFilter: string, onMessage: KvMessageHandler, onProblem: (message: string) => void): Promise<BoundSubscriber> {
    const b = new BoundSubscriber();
    try {
      await b.#sub.bind(endpoint);
    } catch (err) {
      b.#sub.close();
      throw new Error(`cannot bind the KV-event endpoint ${endpoint}: ${(err as Error).message}`);
    }
    b.#sub.subscribe(topicFilter);
    void readLoop(b.#sub, topicPod, onMessage, onProblem);
    return b;
  }

  /** The bound address (with the port chosen when `:0` or `*` was asked). */
  get endpoint(): string {
    return this.#sub.lastEndpoint ?? '';
  }

  close(): void {
    this.#sub.close();
  }
}
