/**
 * An independent reader of vLLM's KV-event wire format for the simulator's tests: a SUB socket that
 * collects `[topic, seq, payload]` messages and decodes them (both event encodings, both hash forms) into
 * plain objects, and a DEALER replay client.
 */
import * as zmq from 'zeromq';
import { unpack } from 'msgpackr';
import { until } from '../helpers/until.js';

export interface WireEvent {
  type: string;
  hashes: bigint[];
  parent: bigint | null;
  tokens: number[];
  blockSize: number | undefined;
  medium: string | null | undefined;
  loraName: string | null | undefined;
}

export interface WireBatch {
  topic: string;
  seq: bigint;
  ts: number;
  rank: number | undefined;
  events: WireEvent[];
  /** The payload as msgpack decodes it, for checks on the encoding itself. */
  raw: unknown[];
}

/** u64 ints as they are; bytes → their last 8 bytes big-endian (llm-d's rule). */
export function normHash(h: unknown): bigint {
  if (typeof h === 'bigint') return BigInt.asUintN(64, h);
  if (typeof h === 'number') return BigInt(h);
  if (h instanceof Uint8Array) {
    const b = Buffer.alloc(8);
    Buffer.from(h.subarray(Math.max(0, h.length - 8))).copy(b, 8 - Math.min(8, h.length));
    return b.readBigUInt64BE();
  }
  throw new Error(`not a hash: ${String(h)}`);
}

function event(raw: unknown): WireEvent {
  if (Array.isArray(raw)) {
    const [type, a, b, c, d, , f, g] = raw as unknown[];
    if (type === 'BlockStored') return { type, hashes: (a as unknown[]).map(normHash), parent: b == null ? null : normHash(b), tokens: c as number[], blockSize: d as number, medium: f as string, loraName: g as string | undefined };
    if (type === 'BlockRemoved') return { type, hashes: (a as unknown[]).map(normHash), parent: null, tokens: [], blockSize: undefined, medium: b as string, loraName: undefined };
    return { type: String(type), hashes: [], parent: null, tokens: [], blockSize: undefined, medium: undefined, loraName: undefined };
  }
  const m = raw as Record<string, unknown>;
  return {
    type: String(m['type']),
    hashes: ((m['block_hashes'] as unknown[]) ?? []).map(normHash),
    parent: m['parent_block_hash'] == null ? null : normHash(m['parent_block_hash']),
    tokens: (m['token_ids'] as number[]) ?? [],
    blockSize: m['block_size'] as number | undefined,
    medium: m['medium'] as string | null | undefined,
    loraName: m['lora_name'] as string | null | undefined,
  };
}

export function decodeBatch(topic: Buffer, seq: Buffer, payload: Buffer): WireBatch {
  if (seq.length !== 8) throw new Error(`sequence frame of ${seq.length} bytes`);
  const batch = unpack(payload) as unknown[];
  return { topic: topic.toString(), seq: seq.readBigUInt64BE(), ts: batch[0] as number, rank: batch[2] as number | undefined, events: (batch[1] as unknown[]).map(event), raw: batch };
}

/** A SUB socket collecting every decoded batch (and the frame count of each message). */
export class Collector {
  readonly batches: WireBatch[] = [];
  readonly frameCounts: number[] = [];
  readonly sub = new zmq.Subscriber({ receiveHighWaterMark: 100_000 });
  readonly #loop: Promise<void>;

  constructor(endpoint: string, topic = 'kv@', mode: 'connect' | 'bound' = 'connect') {
    if (mode === 'connect') this.sub.connect(endpoint);
    this.sub.subscribe(topic);
    this.#loop = (async () => {
      try {
        for await (const frames of this.sub) {
          this.frameCounts.push(frames.length);
          if (frames.length === 3) this.batches.push(decodeBatch(frames[0]!, frames[1]!, frames[2]!));
        }
      } catch {
        // closed
      }
    })();
  }

  static async bound(endpoint: string): Promise<Collector> {
    const c = new Collector(endpoint, 'kv@', 'bound');
    await c.sub.bind(endpoint);
    return c;
  }

  get events(): WireEvent[] {
    return this.batches.flatMap((b) => b.events);
  }

  /** Nudges `poke` (something that publishes) until a batch arrives: past ZMQ's slow-joiner window. */
  async joined(poke: () => void, ms = 20_000): Promise<void> {
    let poked = 0;
    await until(
      () => {
        if (this.batches.length > 0) return true;
        if (Date.now() - poked > 50) {
          poked = Date.now();
          poke();
        }
        return false;
      },
      'the subscriber to receive a first batch',
      ms,
    );
  }

  async close(): Promise<void> {
    this.sub.close();
    await this.#loop;
  }
}

/** Asks a replay ROUTER for every batch from `from`; resolves with the data messages and the end marker. */
export async function replay(endpoint: string, from: bigint): Promise<{ data: Buffer[][]; end: Buffer[] }> {
  const dealer = new zmq.Dealer({ receiveTimeout: 10_000, linger: 0 });
  dealer.connect(endpoint);
  try {
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(from);
    await dealer.send([Buffer.alloc(0), seq]);
    const data: Buffer[][] = [];
    for (;;) {
      const frames = await dealer.receive();
      if (frames.length === 4 && frames[2]!.equals(Buffer.alloc(8, 0xff))) return { data, end: frames };
      data.push(frames);
    }
  } finally {
    dealer.close();
    // Let libzmq end the closed DEALER's pipes before the ROUTER side is closed or rebound (a restart right
    // after a replay has aborted libzmq 4.3.5 on its pipe.cpp "term_ack_sent" assertion).
    await new Promise((r) => setTimeout(r, 100));
  }
}
