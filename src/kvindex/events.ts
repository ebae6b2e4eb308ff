/**
 * vLLM's (and SGLang's) KV-cache event batches, decoded with msgpackr: `[ts, events, dp_rank?]` (or the
 * map form `{ts, events, ...}`), each event a positional array with its tag first (trailing defaults
 * dropped) or a `type`-tagged map. Hashes arrive as u64 ints (BigInt past 2^53), signed int64 (SGLang) or
 * bytes, and are normalised as llm-d does: ints as unsigned 64-bit, bytes by their last 8 bytes big-endian.
 */
import { Unpackr } from 'msgpackr';

export type KvEvent =
  | { readonly kind: 'stored'; readonly hashes: readonly bigint[]; readonly parent: bigint | undefined; readonly tokens: readonly number[]; readonly blockSize: number | undefined; readonly loraName: string | undefined; readonly tier: string }
  | { readonly kind: 'removed'; readonly hashes: readonly bigint[]; readonly tier: string }
  | { readonly kind: 'cleared' };

export interface KvEventBatch {
  readonly ts: number;
  readonly events: readonly KvEvent[];
}

const unpackr = new Unpackr({ int64AsType: 'bigint', mapsAsObjects: true, useRecords: false });

export class KvEventFormatError extends Error {}

export function normalizeHash(h: unknown): bigint {
  if (typeof h === 'bigint') return BigInt.asUintN(64, h);
  if (typeof h === 'number' && Number.isInteger(h)) return BigInt.asUintN(64, BigInt(h));
  if (h instanceof Uint8Array) {
    if (h.length === 0) throw new KvEventFormatError('empty block hash');
    let v = 0n;
    for (let i = Math.max(0, h.length - 8); i < h.length; i++) v = (v << 8n) | BigInt(h[i]!);
    return v;
  }
  throw new KvEventFormatError(`block hash of type ${typeof h}`);
}

/** Medium → tier: lowercased, null or absent is `gpu`. */
const tierOf = (medium: unknown) => (typeof medium === 'string' && medium !== '' ? medium.toLowerCase() : 'gpu');
const hashes = (v: unknown) => {
  if (!Array.isArray(v)) throw new KvEventFormatError('block_hashes is not a list');
  return v.map(normalizeHash);
};
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

function event(raw: unknown): KvEvent | undefined {
  let type: unknown;
  let f: (name: string, position: number) => unknown;
  if (Array.isArray(raw)) {
    type = raw[0];
    f = (_name, position) => raw[position];
  } else if (raw !== null && typeof raw === 'object') {
    const m = raw as Record<string, unknown>;
    type = m['type'];
    f = (name) => m[name];
  } else throw new KvEventFormatError('an event is neither a list nor a map');
  switch (type) {
    case 'BlockStored': {
      const parent = f('parent_block_hash', 2);
      const tokens = f('token_ids', 3);
      if (tokens != null && !Array.isArray(tokens)) throw new KvEventFormatError('token_ids is not a list');
      return {
        kind: 'stored',
        hashes: hashes(f('block_hashes', 1)),
        parent: parent == null ? undefined : normalizeHash(parent),
        tokens: (tokens as number[] | undefined)?.map(Number) ?? [],
        blockSize: typeof f('block_size', 4) === 'number' ? (f('block_size', 4) as number) : undefined,
        loraName: str(f('lora_name', 7)),
        tier: tierOf(f('medium', 6)),
      };
    }
    case 'BlockRemoved':
      return { kind: 'removed', hashes: hashes(f('block_hashes', 1)), tier: tierOf(f('medium', 2)) };
    case 'AllBlocksCleared':
      return { kind: 'cleared' };
    default:
      return undefined; // newer event kinds: ignored
  }
}

/** Decodes one payload; throws KvEventFormatError when it is not a batch. Unknown event kinds are skipped. */
export function decodeBatch(payload: Uint8Array): KvEventBatch {
  let raw: unknown;
  try {
    raw = unpackr.unpack(payload);
  } catch (err) {
    throw new KvEventFormatError(`not msgpack: ${(err as Error).message}`);
  }
  let ts: unknown;
  let events: unknown;
  if (Array.isArray(raw)) [ts, events] = raw;
  else if (raw !== null && typeof raw === 'object') ({ ts, events } = raw as { ts?: unknown; events?: unknown });
  if (!Array.isArray(events)) throw new KvEventFormatError('the batch has no event list');
  const out: KvEvent[] = [];
  for (const e of events) {
    const d = event(e);
    if (d) out.push(d);
  }
  return { ts: typeof ts === 'number' ? ts : 0, events: out };
}

/** `kv@<pod>@<model>` → its model part ('' when the topic has another shape, as llm-d reads it). */
export function topicModel(topic: string): string {
  const parts = topic.split('@');
  return parts.length === 3 ? parts[2]! : '';
}

/** `kv@<pod>@<model>` → its pod part ('' when the topic has another shape). */
export function topicPod(topic: string): string {
  const parts = topic.split('@');
  return parts.length === 3 ? parts[1]! : '';
}
