/**
 * Endpoint snapshots for worker threads, packed once per epoch. Measured (bench/snapshot-shipping.bench.ts):
 * msgpackr-packing a whole 64-endpoint snapshot costs the main thread ~50× more than writing its numeric
 * figures into columns, and those are what change every epoch (scrapes, 2,000 a second at 100 pods). So an
 * epoch is two parts:
 * - numeric columns (metrics and the load picture) in a SharedArrayBuffer, written once per epoch;
 * - everything else (identity, labels, LoRA sets, attributes) packed with msgpackr only when it changed,
 *   which is when pods come and go or their adapters change.
 * Both buffers are shared memory: a task carries references to them, never a copy, and each worker decodes
 * an epoch once.
 */
import { Packr } from 'msgpackr';
import type { Endpoint, EndpointMetadata, EndpointSnapshot } from '../framework/endpoint.js';

/** Figures per endpoint in the numeric columns, in this order. */
const NUMERIC = 10;

/** What a task carries to name its epoch; the buffers are shared, not copied. */
export interface PackedEpoch {
  readonly epoch: number;
  readonly count: number;
  /** `count × NUMERIC` float64s. */
  readonly numbers: SharedArrayBuffer;
  /** Changes only when the static part does. */
  readonly staticId: number;
  readonly statics: SharedArrayBuffer;
  readonly staticsLength: number;
}

/** The per-endpoint part that rarely changes. */
interface StaticEndpoint {
  readonly key: string;
  readonly hostPort: string;
  readonly metadata: EndpointMetadata;
  readonly activeModels: string[];
  readonly waitingModels: string[];
  readonly attributes: [string, unknown][];
}

const packr = new Packr({ structuredClone: true });

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) => {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
};

/** Main-thread side: packs each epoch once and says where each endpoint sits in it. */
export class SnapshotPacker {
  #last: { packed: PackedEpoch; index: Map<Endpoint, number>; endpoints: readonly Endpoint[] } | undefined;
  #staticId = 0;
  #packs = 0;
  #staticPacks = 0;

  /** Epochs packed, and how many of them re-packed the static part. */
  get stats(): { packs: number; staticPacks: number } {
    return { packs: this.#packs, staticPacks: this.#staticPacks };
  }

  pack(snapshot: EndpointSnapshot): { packed: PackedEpoch; index: ReadonlyMap<Endpoint, number> } {
    const last = this.#last;
    if (last && last.packed.epoch === snapshot.epoch) return last;
    const endpoints = snapshot.endpoints;
    const n = endpoints.length;
    const numbers = new SharedArrayBuffer(Math.max(8, n * NUMERIC * 8));
    const f = new Float64Array(numbers);
    const index = new Map<Endpoint, number>();
    for (let i = 0, j = 0; i < n; i++) {
      const e = endpoints[i]!;
      index.set(e, i);
      const m = e.metrics;
      const l = e.load;
      f[j++] = m.waitingQueueSize;
      f[j++] = m.runningRequestsSize;
      f[j++] = m.kvCacheUsage;
      f[j++] = m.maxActiveModels;
      f[j++] = m.cacheBlockSize;
      f[j++] = m.cacheNumBlocks;
      f[j++] = m.updateTime;
      f[j++] = l.inFlightRequests;
      f[j++] = l.inFlightTokens;
      f[j++] = l.unscrapedDispatches;
    }
    let statics = last?.packed.statics;
    let staticsLength = last?.packed.staticsLength ?? 0;
    let staticId = last?.packed.staticId ?? 0;
    if (!last || !sameStatics(last.endpoints, endpoints)) {
      const bytes = packr.pack(endpoints.map(staticOf));
      statics = new SharedArrayBuffer(Math.max(1, bytes.length));
      new Uint8Array(statics).set(bytes);
      staticsLength = bytes.length;
      staticId = ++this.#staticId;
      this.#staticPacks++;
    }
    this.#packs++;
    const packed: PackedEpoch = { epoch: snapshot.epoch, count: n, numbers, staticId, statics: statics!, staticsLength };
    this.#last = { packed, index, endpoints };
    return this.#last;
  }
}

function staticOf(e: Endpoint): StaticEndpoint {
  return {
    key: e.key,
    hostPort: e.hostPort,
    metadata: e.metadata,
    activeModels: [...e.metrics.activeModels],
    waitingModels: [...e.metrics.waitingModels],
    attributes: [...e.attributes],
  };
}

/** Same endpoints in the same places with the same identity, adapters and attributes. */
function sameStatics(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (x.metadata !== y.metadata || x.attributes !== y.attributes || x.attributes.size !== y.attributes.size) return false;
    if (!sameSet(x.metrics.activeModels, y.metrics.activeModels) || !sameSet(x.metrics.waitingModels, y.metrics.waitingModels)) return false;
  }
  return true;
}

/**
 * Worker side: rebuilds an epoch's endpoints as plain objects, decoding the static part once per id and
 * the columns once per epoch. Keeps a few recent epochs, since tasks of an older epoch may still arrive
 * after a newer one.
 */
export class SnapshotReplica {
  #statics: { id: number; endpoints: StaticEndpoint[] } | undefined;
  readonly #epochs = new Map<number, readonly Endpoint[]>();
  #decodes = 0;

  get decodes(): number {
    return this.#decodes;
  }

  endpoints(p: PackedEpoch): readonly Endpoint[] {
    const cached = this.#epochs.get(p.epoch);
    if (cached) return cached;
    if (!this.#statics || this.#statics.id !== p.staticId) {
      this.#statics = { id: p.staticId, endpoints: packr.unpack(new Uint8Array(p.statics, 0, p.staticsLength)) as StaticEndpoint[] };
    }
    const statics = this.#statics.endpoints;
    const f = new Float64Array(p.numbers);
    const out: Endpoint[] = new Array(p.count);
    for (let i = 0, j = 0; i < p.count; i++) {
      const s = statics[i]!;
      out[i] = {
        key: s.key,
        hostPort: s.hostPort,
        metadata: s.metadata,
        metrics: {
          waitingQueueSize: f[j++]!,
          runningRequestsSize: f[j++]!,
          kvCacheUsage: f[j++]!,
          maxActiveModels: f[j++]!,
          cacheBlockSize: f[j++]!,
          cacheNumBlocks: f[j++]!,
          updateTime: f[j++]!,
          activeModels: new Set(s.activeModels),
          waitingModels: new Set(s.waitingModels),
        },
        load: { inFlightRequests: f[j++]!, inFlightTokens: f[j++]!, unscrapedDispatches: f[j++]! },
        attributes: new Map(s.attributes),
      };
    }
    this.#decodes++;
    this.#epochs.set(p.epoch, out);
    if (this.#epochs.size > 4) this.#epochs.delete(this.#epochs.keys().next().value!);
    return out;
  }
}
