/**
 * KV-cache events as vLLM publishes them (`--kv-events-config`, vllm/distributed/kv_events.py): a ZMQ PUB
 * socket sending `[topic, seq (8 B big-endian), msgpack batch]`, one batch per engine step with events,
 * `seq` from 0 per process; a ROUTER socket answering replay requests from its buffer of recent batches.
 *
 * Batch: `[ts float64, events, data_parallel_rank]`. Events, positional (vLLM's legacy and default form):
 * `["BlockStored", block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium, lora_name?]`,
 * `["BlockRemoved", block_hashes, medium]`, `["AllBlocksCleared"]`; or tagged maps (`{type: …}`, vLLM
 * PR #42892). Replay (vLLM ≥ v0.26.0): a request `[seq8]` (after the DEALER/REQ empty frame) is answered
 * with `[empty, topic, seq8, payload]` per buffered batch with seq ≥ start, then `[empty, "", 0xFF×8, ""]`.
 */
import * as zmq from 'zeromq';
import { Packr } from 'msgpackr';

export type KvEventEncoding = 'array' | 'tagged';
export type KvHashFormat = 'int' | 'bytes';

export interface KvEventsOptions {
  /** Where the PUB socket goes: bound at an address (vLLM's `tcp://*:5557`), or connected to a central subscriber. */
  readonly endpoint: { readonly bind: string } | { readonly connect: string };
  /** The ROUTER replay socket's bind address (vLLM's `replay_endpoint`); none by default. */
  readonly replayBind?: string;
  /** vLLM's literal topic; llm-d expects `kv@<pod>@<model>`. */
  readonly topic: string;
  /** Batches kept for replay (vLLM's `buffer_steps`). */
  readonly bufferSteps?: number;
  /** PUB send high-water mark (vLLM's `hwm`). */
  readonly hwm?: number;
  readonly encoding?: KvEventEncoding;
  /** Block hashes as u64 ints (`VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=1`) or 32-byte digests (vLLM's sha256 form). */
  readonly hashFormat?: KvHashFormat;
  readonly dataParallelRank?: number;
}

/** The end-of-replay marker's sequence. */
export const REPLAY_END = Buffer.alloc(8, 0xff);

const packr = new Packr({ useRecords: false, variableMapSize: true });
const MEDIUM = 'GPU';
/** An odd 64-bit multiplier: spreads the simulator's 53-bit block keys over all 64 bits, one to one. */
const SPREAD = 0x9e3779b97f4a7c15n;

/** The engine hash of a simulator block key as vLLM's int form would carry it (a u64, often ≥ 2⁶³). */
export const wireHashInt = (key: number): bigint => BigInt.asUintN(64, BigInt(key) * SPREAD);

/** The 32-byte digest form: 24 filler bytes, then the int form big-endian (llm-d keeps the last 8 bytes). */
export function wireHashBytes(key: number): Buffer {
  const out = Buffer.alloc(32);
  const h = wireHashInt(key);
  for (let i = 0; i < 3; i++) out.writeBigUInt64BE(BigInt.asUintN(64, h * BigInt(2 * i + 3)), i * 8);
  out.writeBigUInt64BE(h, 24);
  return out;
}

export const seqFrame = (seq: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(seq));
  return b;
};

type Event =
  | { type: 'BlockStored'; hashes: number[]; parent: number | undefined; tokens: number[]; blockSize: number; lora: string | undefined }
  | { type: 'BlockRemoved'; hashes: number[] }
  | { type: 'AllBlocksCleared' };

export interface KvEventStats {
  batches: number;
  stored: number;
  removed: number;
  cleared: number;
  replays: number;
}

/** Serialises sends on one socket: zeromq allows one send in flight per socket. */
class Sender {
  #tail: Promise<unknown> = Promise.resolve();
  constructor(readonly socket: zmq.Writable & zmq.Socket) {}
  send(frames: (Buffer | string)[]): void {
    this.#tail = this.#tail.then(() => (this.socket.closed ? undefined : this.socket.send(frames))).catch(() => undefined);
  }
  drained(): Promise<unknown> {
    return this.#tail;
  }
}

/** Binds, retrying for up to 2 s while the address is still held by the sockets a restart just closed (ZMQ closes asynchronously). */
async function bindAgain(socket: zmq.Socket, address: string, retry: boolean): Promise<void> {
  for (let waited = 0; ; waited += 50) {
    try {
      return await socket.bind(address);
    } catch (err) {
      if (!retry || (err as { code?: string }).code !== 'EADDRINUSE' || waited >= 2000) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export class KvEventPublisher {
  readonly options: KvEventsOptions;
  readonly stats: KvEventStats = { batches: 0, stored: 0, removed: 0, cleared: 0, replays: 0 };
  #seq = 0;
  #pending: Event[] = [];
  #flushScheduled = false;
  /** Recent batches for replay: [seq, payload]. */
  #buffer: [number, Buffer][] = [];
  #pub: zmq.Publisher | undefined;
  #pubSender: Sender | undefined;
  #router: zmq.Router | undefined;
  #routerSender: Sender | undefined;
  #closed = false;
  /** The addresses really bound the first time (port 0 resolved), bound again on a restart. */
  #pubAt: string | undefined;
  #replayAt: string | undefined;

  private constructor(options: KvEventsOptions) {
    this.options = options;
  }

  /** Opens the sockets; throws a clear error when an address is taken or malformed. */
  static async start(options: KvEventsOptions): Promise<KvEventPublisher> {
    const p = new KvEventPublisher(options);
    await p.#open();
    return p;
  }

  /** The next batch's sequence number. */
  get seq(): number {
    return this.#seq;
  }

  /** The bound PUB address (with the real port when 0 was asked), or the connect address. */
  get endpoint(): string {
    if ('connect' in this.options.endpoint) return this.options.endpoint.connect;
    return this.#pubAt ?? this.options.endpoint.bind;
  }

  get replayEndpoint(): string | undefined {
    return this.#replayAt;
  }

  blockStored(hashes: number[], parent: number | undefined, tokens: ArrayLike<number>, blockSize: number, lora: string | undefined): void {
    this.#add({ type: 'BlockStored', hashes, parent, tokens: Array.from(tokens), blockSize, lora });
  }

  blockRemoved(hash: number): void {
    const last = this.#pending.at(-1);
    if (last?.type === 'BlockRemoved') last.hashes.push(hash); // one eviction pass, one event
    else this.#add({ type: 'BlockRemoved', hashes: [hash] });
  }

  allBlocksCleared(): void {
    this.#add({ type: 'AllBlocksCleared' });
  }

  /** Sends what is pending now (it also goes out on its own at the end of the current turn of the event loop). */
  flush(): void {
    if (this.#pending.length === 0 || !this.#pubSender) return;
    const events = this.#pending;
    this.#pending = [];
    const seq = this.#seq++;
    const payload = this.#encode(events);
    this.#buffer.push([seq, payload]);
    if (this.#buffer.length > (this.options.bufferSteps ?? 10_000)) this.#buffer.shift();
    this.#pubSender.send([this.options.topic, seqFrame(seq), payload]);
    this.stats.batches++;
  }

  /** Resolves once every batch handed to the PUB socket so far has been sent (or dropped by ZMQ). */
  async drained(): Promise<void> {
    this.flush();
    await this.#pubSender?.drained();
  }

  /**
   * A process restart: sockets closed and opened again, the sequence back at 0, the replay buffer and any
   * unsent events gone. No event is published for the lost cache, as a restarted vLLM publishes none.
   */
  async restart(): Promise<void> {
    await this.#shut();
    // libzmq ends a closed socket's pipes on its I/O thread; binding the same address again before that
    // finished has aborted the process (pipe.cpp "term_ack_sent" assertion) now and then under load.
    await new Promise((r) => setTimeout(r, 100));
    this.#seq = 0;
    this.#pending = [];
    this.#buffer = [];
    await this.#open();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.flush();
    await this.#shut();
  }

  #add(e: Event): void {
    if (this.#closed) return;
    this.#pending.push(e);
    if (e.type === 'BlockStored') this.stats.stored += e.hashes.length;
    else if (e.type === 'BlockRemoved') this.stats.removed++;
    else this.stats.cleared++;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // Everything the engine does in one turn of the event loop is one "engine step": one batch.
      setImmediate(() => {
        this.#flushScheduled = false;
        this.flush();
      });
    }
  }

  #hash(key: number): bigint | Buffer {
    return this.options.hashFormat === 'bytes' ? wireHashBytes(key) : wireHashInt(key);
  }

  #encode(events: Event[]): Buffer {
    const tagged = this.options.encoding === 'tagged';
    const wire = events.map((e) => {
      switch (e.type) {
        case 'BlockStored': {
          const hashes = e.hashes.map((h) => this.#hash(h));
          const parent = e.parent === undefined ? null : this.#hash(e.parent);
          const lora = e.lora ?? null;
          if (tagged) return { type: e.type, block_hashes: hashes, parent_block_hash: parent, token_ids: e.tokens, block_size: e.blockSize, lora_id: null, medium: MEDIUM, lora_name: lora };
          // Positional, trailing defaults dropped (msgspec omit_defaults): lora_name only when set.
          return lora === null ? [e.type, hashes, parent, e.tokens, e.blockSize, null, MEDIUM] : [e.type, hashes, parent, e.tokens, e.blockSize, null, MEDIUM, lora];
        }
        case 'BlockRemoved': {
          const hashes = e.hashes.map((h) => this.#hash(h));
          return tagged ? { type: e.type, block_hashes: hashes, medium: MEDIUM } : [e.type, hashes, MEDIUM];
        }
        case 'AllBlocksCleared':
          return tagged ? { type: e.type } : [e.type];
      }
    });
    // [ts, events, dp_rank] with ts always a float64, as Python writes a float (msgpackr would write a whole number as an int).
    const head = Buffer.alloc(10);
    head[0] = 0x93;
    head[1] = 0xcb;
    head.writeDoubleBE(Date.now() / 1000, 2);
    return Buffer.concat([head, packr.pack(wire), packr.pack(this.options.dataParallelRank ?? 0)]);
  }

  async #open(): Promise<void> {
    const pub = new zmq.Publisher({ sendHighWaterMark: this.options.hwm ?? 100_000, linger: 0 });
    try {
      if ('bind' in this.options.endpoint) {
        await bindAgain(pub, this.#pubAt ?? this.options.endpoint.bind, this.#pubAt !== undefined);
        this.#pubAt = pub.lastEndpoint ?? undefined;
      } else pub.connect(this.options.endpoint.connect);
    } catch (err) {
      pub.close();
      throw new Error(`KV events: cannot ${'bind' in this.options.endpoint ? `bind ${this.options.endpoint.bind}` : `connect to ${this.options.endpoint.connect}`}: ${(err as Error).message}`);
    }
    this.#pub = pub;
    this.#pubSender = new Sender(pub);
    if (this.options.replayBind === undefined) return;
    const router = new zmq.Router({ linger: 0 });
    try {
      await bindAgain(router, this.#replayAt ?? this.options.replayBind, this.#replayAt !== undefined);
      this.#replayAt = router.lastEndpoint ?? undefined;
    } catch (err) {
      router.close();
      await this.#shut();
      throw new Error(`KV events: cannot bind the replay socket ${this.options.replayBind}: ${(err as Error).message}`);
    }
    this.#router = router;
    this.#routerSender = new Sender(router);
    void this.#serveReplay(router, this.#routerSender);
  }

  async #serveReplay(router: zmq.Router, sender: Sender): Promise<void> {
    try {
      for await (const frames of router) {
        const identity = frames[0]!;
        const start = frames.at(-1)!;
        if (frames.length < 2 || start.length !== 8) continue; // not a replay request: vLLM ignores it too
        const from = start.readBigUInt64BE();
        this.stats.replays++;
        for (const [seq, payload] of this.#buffer) {
          if (BigInt(seq) >= from) sender.send([identity, Buffer.alloc(0), this.options.topic, seqFrame(seq), payload]);
        }
        sender.send([identity, Buffer.alloc(0), '', REPLAY_END, '']);
      }
    } catch {
      // the socket closed under the loop: restart or close
    }
  }

  async #shut(): Promise<void> {
    const pub = this.#pub;
    const router = this.#router;
    this.#pub = this.#router = undefined;
    await Promise.all([this.#pubSender?.drained(), this.#routerSender?.drained()]);
    this.#pubSender = this.#routerSender = undefined;
    // Unbind before close so the ports are free again at once (a restart binds them again).
    for (const [s, bound] of [[pub, 'bind' in this.options.endpoint], [router, true]] as const) {
      if (!s || s.closed) continue;
      const at = s.lastEndpoint;
      if (bound && at) await s.unbind(at).catch(() => undefined);
      s.close();
    }
  }
}
