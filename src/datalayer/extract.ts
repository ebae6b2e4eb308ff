/**
 * Turns one engine's metrics page into the scheduler's endpoint metrics. Only the mapped series are parsed;
 * a missing, NaN or infinite figure is reported as a problem and left out, so the caller keeps the last
 * good value instead of poisoning the snapshot.
 */
import type { EngineMapping, MetricSelector } from '../framework/datalayer.js';
import { SampleNames, SeriesScanner, type Series } from './prom-text.js';

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

function matches(sel: MetricSelector, s: Series): boolean {
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

/** What one series means to one extractor, worked out once from its name and labels (`Series.plan`). */
interface Plan {
  /** Per numeric field, the index of the first of its selectors the series matches, or -1. */
  readonly numeric: readonly number[];
  /** The LoRA series: its adapter sets and `max_lora`. */
  readonly lora: { readonly active: ReadonlySet<string>; readonly waiting: ReadonlySet<string>; readonly max: number } | undefined;
  /** The cache-info series: its block size and count labels as numbers. */
  readonly cache: { readonly block: number; readonly blocks: number } | undefined;
  /** Indices of the custom series it is. */
  readonly custom: readonly number[];
}

/**
 * One pod's memory of its last page for `MetricsExtractor.extract`: the page's bytes (when small) with the
 * figures read from them, and the scanner that keeps each line's series. An unchanged page, which is what
 * an idle pod serves every time, costs one comparison; a changed one re-parses only the lines whose text
 * changed before the value.
 */
export class ExtractMemo {
  owner: MetricsExtractor | undefined;
  scanner = new SeriesScanner();
  page: Buffer = Buffer.alloc(0);
  pageLength = -1;
  result: ExtractedMetrics | undefined;
}

/** Pages up to this size are kept for the unchanged-page check (a `?name[]=` page is well under 1 KB). */
export const KEPT_PAGE_BYTES = 16 * 1024;

export class MetricsExtractor {
  readonly #names: SampleNames;
  /** Every sample name a page must carry for this engine (for prometheus_client's `?name[]=` filter). */
  readonly sampleNames: readonly string[];
  /** Numeric fields with their selectors in priority order (later = fallback). */
  readonly #numeric: [NumericField, readonly MetricSelector[]][];
  /** `describe` of each numeric field's selectors, and of each custom series. */
  readonly #numericText: (readonly string[])[];
  readonly #customText: readonly string[];
  /** For calls without a memo: series are still kept from one page to the next, whatever pod it came from. */
  readonly #scanner = new SeriesScanner();

  constructor(private readonly mapping: EngineMapping) {
    this.#numeric = [
      ['waitingQueueSize', mapping.waitingQueue],
      ['runningRequestsSize', mapping.running],
      ['kvCacheUsage', mapping.kvUsage],
    ];
    if (mapping.blockSize) this.#numeric.push(['cacheBlockSize', [mapping.blockSize]]);
    if (mapping.numBlocks) this.#numeric.push(['cacheNumBlocks', [mapping.numBlocks]]);
    this.#numericText = this.#numeric.map(([, sels]) => sels.map(describe));
    this.#customText = (mapping.custom ?? []).map((c) => describe(c.selector));
    const names = new Set<string>();
    for (const [, sels] of this.#numeric) for (const sel of sels) names.add(sel.name);
    if (mapping.loraInfo) names.add(mapping.loraInfo.name);
    if (mapping.cacheInfo) names.add(mapping.cacheInfo.selector.name);
    for (const c of mapping.custom ?? []) names.add(c.selector.name);
    this.#names = new SampleNames(names);
    this.sampleNames = [...names];
  }

  /**
   * Pages arrive as bytes; a string (tests, the simulator) is taken as latin1, like the wire. With a pod's
   * `memo`, an unchanged page returns the previous (frozen) result and a changed one reuses the series of
   * its unchanged lines; the figures are the same either way.
   */
  extract(page: Buffer | string, memo?: ExtractMemo): ExtractedMetrics {
    if (typeof page === 'string') page = Buffer.from(page, 'latin1');
    if (memo && memo.owner !== this) {
      memo.owner = this;
      memo.scanner = new SeriesScanner();
      memo.pageLength = -1;
      memo.result = undefined;
    }
    if (memo?.result && page.length === memo.pageLength && page.compare(memo.page, 0, memo.pageLength) === 0) return memo.result;
    const scanner = memo?.scanner ?? this.#scanner;
    scanner.scan(page, this.#names);
    const out = this.#read(scanner);
    if (memo) this.#remember(memo, page, out);
    return out;
  }

  #remember(memo: ExtractMemo, page: Buffer, out: ExtractedMetrics): void {
    if (page.length > KEPT_PAGE_BYTES) {
      memo.pageLength = -1;
      memo.result = undefined;
      return;
    }
    if (memo.page.length < page.length) memo.page = Buffer.allocUnsafe(Math.max(page.length, 1024));
    page.copy(memo.page);
    memo.pageLength = page.length;
    Object.freeze(out.problems);
    memo.result = Object.freeze(out);
  }

  #read(scanner: SeriesScanner): ExtractedMetrics {
    const out: ExtractedMetrics = { problems: [] };
    const numeric = this.#numeric;
    const rank = numeric.map(() => Infinity);
    let loraStamp = -Infinity;
    const custom = this.mapping.custom;
    const { series, values, bad } = scanner;
    let b = 0; // malformed lines are reported in page order, among the samples' problems
    for (let k = 0; k < series.length; k++) {
      for (; b < bad.length && bad[b]![0] === k; b++) out.problems.push(`${bad[b]![1]}: malformed line "${bad[b]![2]}"`);
      const s = series[k]!;
      const value = values[k]!;
      const plan = (s.plan ??= this.#plan(s)) as Plan;
      for (let f = 0; f < numeric.length; f++) {
        const i = plan.numeric[f]!;
        if (i < 0 || i >= rank[f]!) continue;
        if (!Number.isFinite(value)) {
          out.problems.push(`${this.#numericText[f]![i]}: value ${value} is not a finite number`);
          continue;
        }
        out[numeric[f]![0]] = value;
        rank[f] = i;
      }
      // The LoRA series with the largest value (a timestamp) is the current one.
      if (plan.lora && value > loraStamp) {
        loraStamp = value;
        out.activeModels = plan.lora.active;
        out.waitingModels = plan.lora.waiting;
        if (Number.isFinite(plan.lora.max)) out.maxActiveModels = plan.lora.max;
      }
      if (plan.cache) {
        const { block, blocks } = plan.cache;
        if (Number.isFinite(block) && block > 0) out.cacheBlockSize = block;
        if (Number.isFinite(blocks) && blocks > 0) out.cacheNumBlocks = blocks;
      }
      // The first matching sample of a custom series is its value (llm-d reads the latest; pages carry no timestamps).
      for (const c of plan.custom) {
        const key = custom![c]!.key;
        if (out.attributes?.has(key)) continue;
        if (Number.isFinite(value)) (out.attributes ??= new Map()).set(key, value);
        else out.problems.push(`${this.#customText[c]}: value ${value} is not a finite number`);
      }
    }
    for (; b < bad.length; b++) out.problems.push(`${bad[b]![1]}: malformed line "${bad[b]![2]}"`);
    for (let f = 0; f < numeric.length; f++) {
      const texts = this.#numericText[f]!;
      if (out[numeric[f]![0]] === undefined && !out.problems.some((p) => texts.some((t) => p.startsWith(t)))) out.problems.push(`${texts.join(' or ')}: missing`);
    }
    custom?.forEach((c, i) => {
      const text = this.#customText[i]!;
      if (!out.attributes?.has(c.key) && !out.problems.some((p) => p.startsWith(text))) out.problems.push(`${text}: missing`);
    });
    return out;
  }

  /** What `s` means to this extractor: worked out once per series, not per page. */
  #plan(s: Series): Plan {
    const { loraInfo, cacheInfo, custom } = this.mapping;
    const isLora = loraInfo !== undefined && s.name === loraInfo.name && matches(loraInfo, s);
    const isCache = cacheInfo !== undefined && s.name === cacheInfo.selector.name && matches(cacheInfo.selector, s);
    return {
      numeric: this.#numeric.map(([, sels]) => sels.findIndex((sel) => sel.name === s.name && matches(sel, s))),
      lora: isLora ? { active: adapters(s.labels.get('running_lora_adapters')), waiting: adapters(s.labels.get('waiting_lora_adapters')), max: Number(s.labels.get('max_lora')) } : undefined,
      cache: isCache ? { block: Number(s.labels.get(cacheInfo.blockSizeLabel)), blocks: Number(s.labels.get(cacheInfo.numBlocksLabel)) } : undefined,
      custom: (custom ?? []).flatMap((c, i) => (s.name === c.selector.name && matches(c.selector, s) ? [i] : [])),
    };
  }
}
