/**
 * Turns one engine's metrics page into the scheduler's endpoint metrics. Only the mapped series are parsed;
 * a missing, NaN or infinite figure is reported as a problem and left out, so the caller keeps the last
 * good value instead of poisoning the snapshot.
 */
import type { EngineMapping, MetricSelector } from '../framework/datalayer.js';
import { SampleNames, scanSamples, type Sample } from './prom-text.js';

export interface ExtractedMetrics {
  waitingQueueSize?: number;
  runningRequestsSize?: number;
  kvCacheUsage?: number;
  activeModels?: ReadonlySet<string>;
  waitingModels?: ReadonlySet<string>;
  maxActiveModels?: number;
  cacheBlockSize?: number;
  cacheNumBlocks?: number;
  /** Custom series (`EngineMapping.custom`) by attribute key. */
  attributes?: Map<string, number>;
  /** What was missing or unusable, by series; empty when the page was complete. */
  problems: string[];
}

type NumericField = 'waitingQueueSize' | 'runningRequestsSize' | 'kvCacheUsage' | 'cacheBlockSize' | 'cacheNumBlocks';

function matches(sel: MetricSelector, s: Sample): boolean {
  for (const [k, v] of sel.labels) if (s.labels.get(k) !== v) return false;
  return true;
}
const describe = (sel: MetricSelector) => sel.name + (sel.labels.length ? `{${sel.labels.map(([k, v]) => `${k}="${v}"`).join(',')}}` : '');
/**
 * Adapter lists as sets, shared: every pod reports its list on every scrape and it rarely changes, so the
 * same text gives the same (read-only) set instead of a split and a new set 2,000 times a second.
 */
const adapterSets = new Map<string, ReadonlySet<string>>();
function adapters(list: string | undefined): ReadonlySet<string> {
  const text = list ?? '';
  let set = adapterSets.get(text);
  if (!set) {
    if (adapterSets.size >= 1024) adapterSets.clear(); // a bound, not an LRU: lists are few in practice
    set = new Set(text.split(',').map((a) => a.trim()).filter(Boolean));
    adapterSets.set(text, set);
  }
  return set;
}

export class MetricsExtractor {
  readonly #names: SampleNames;
  /** Every sample name a page must carry for this engine (for prometheus_client's `?name[]=` filter). */
  readonly sampleNames: readonly string[];
  /** Numeric fields with their selectors in priority order (later = fallback). */
  readonly #numeric: [NumericField, readonly MetricSelector[]][];

  constructor(private readonly mapping: EngineMapping) {
    this.#numeric = [
      ['waitingQueueSize', mapping.waitingQueue],
      ['runningRequestsSize', mapping.running],
      ['kvCacheUsage', mapping.kvUsage],
    ];
    if (mapping.blockSize) this.#numeric.push(['cacheBlockSize', [mapping.blockSize]]);
    if (mapping.numBlocks) this.#numeric.push(['cacheNumBlocks', [mapping.numBlocks]]);
    const names = new Set<string>();
    for (const [, sels] of this.#numeric) for (const sel of sels) names.add(sel.name);
    if (mapping.loraInfo) names.add(mapping.loraInfo.name);
    if (mapping.cacheInfo) names.add(mapping.cacheInfo.selector.name);
    for (const c of mapping.custom ?? []) names.add(c.selector.name);
    this.#names = new SampleNames(names);
    this.sampleNames = [...names];
  }

  /** Pages arrive as bytes; a string (tests, the simulator) is taken as latin1, like the wire. */
  extract(page: Buffer | string): ExtractedMetrics {
    if (typeof page === 'string') page = Buffer.from(page, 'latin1');
    const out: ExtractedMetrics = { problems: [] };
    const rank = new Map<NumericField, number>();
    let loraStamp = -Infinity;
    const { loraInfo, cacheInfo, custom } = this.mapping;
    scanSamples(
      page,
      this.#names,
      (sample) => {
        for (const [field, sels] of this.#numeric) {
          let i = 0; // a loop, not findIndex: this runs per sample and field, ~2,000 scrapes a second
          while (i < sels.length && !(sels[i]!.name === sample.name && matches(sels[i]!, sample))) i++;
          if (i === sels.length || i >= (rank.get(field) ?? Infinity)) continue;
          if (!Number.isFinite(sample.value)) {
            out.problems.push(`${describe(sels[i]!)}: value ${sample.value} is not a finite number`);
            continue;
          }
          out[field] = sample.value;
          rank.set(field, i);
        }
        // The LoRA series with the largest value (a timestamp) is the current one.
        if (loraInfo && sample.name === loraInfo.name && matches(loraInfo, sample) && sample.value > loraStamp) {
          loraStamp = sample.value;
          out.activeModels = adapters(sample.labels.get('running_lora_adapters'));
          out.waitingModels = adapters(sample.labels.get('waiting_lora_adapters'));
          const max = Number(sample.labels.get('max_lora'));
          if (Number.isFinite(max)) out.maxActiveModels = max;
        }
        if (cacheInfo && sample.name === cacheInfo.selector.name && matches(cacheInfo.selector, sample)) {
          const block = Number(sample.labels.get(cacheInfo.blockSizeLabel));
          const blocks = Number(sample.labels.get(cacheInfo.numBlocksLabel));
          if (Number.isFinite(block) && block > 0) out.cacheBlockSize = block;
          if (Number.isFinite(blocks) && blocks > 0) out.cacheNumBlocks = blocks;
        }
        // The first matching sample of a custom series is its value (llm-d reads the latest; pages carry no timestamps).
        if (custom) {
          for (const c of custom) {
            if (sample.name !== c.selector.name || !matches(c.selector, sample) || out.attributes?.has(c.key)) continue;
            if (Number.isFinite(sample.value)) (out.attributes ??= new Map()).set(c.key, sample.value);
            else out.problems.push(`${describe(c.selector)}: value ${sample.value} is not a finite number`);
          }
        }
      },
      (name, line) => out.problems.push(`${name}: malformed line "${line}"`),
    );
    for (const [field, sels] of this.#numeric) {
      if (out[field] === undefined && !out.problems.some((p) => sels.some((s) => p.startsWith(describe(s))))) {
        out.problems.push(`${sels.map(describe).join(' or ')}: missing`);
      }
    }
    for (const c of custom ?? []) {
      if (!out.attributes?.has(c.key) && !out.problems.some((p) => p.startsWith(describe(c.selector)))) out.problems.push(`${describe(c.selector)}: missing`);
    }
    return out;
  }
}
