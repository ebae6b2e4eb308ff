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

/** The end-of-replay marker's sequence number (vLLM: eight 0xFF bytes). */
const END_OF_REPLAY = 0xffffffffffffffffn;
/** A replay that goes quiet this long is abandoned (llm-d: 2 s idle). */
const REPLAY_IDLE_MS = 2000;

/**
 * Asks a pod's ROUTER replay socket (vLLM ≥ v0.26's layout) for every buffered batch from `from`: sends
 * `[empty, seq]` from a DEALER and reads `[empty, topic, seq, payload]` messages up to the end marker.
 * Rejects when the pod does not answer in time or answers in another layout.
 */
export async function replayFrom(endpoint: string, from: bigint): Promise<[topic: string, seq: bigint, payload: Buffer][]> {
  const dealer = new zmq.Dealer({ receiveTimeout: REPLAY_IDLE_MS, linger: 0 });
  try {
    dealer.connect(endpoint);
    const start = Buffer.alloc(8);
    start.writeBigUInt64BE(from);
    await dealer.send([Buffer.alloc(0), start]);
    const out: [string, bigint, Buffer][] = [];
    for (;;) {
      const frames = await dealer.receive();
      if (frames.length !== 4 || frames[0]!.length !== 0 || frames[2]!.length !== 8) throw new Error(`unexpected replay reply of ${frames.length} frames from ${endpoint}`);
      const seq = frames[2]!.readBigUInt64BE(0);
      if (seq === END_OF_REPLAY) return out;
      out.push([frames[1]!.toString('latin1'), seq, frames[3]!]);
    }
  } finally {
    dealer.close();
  }
}
