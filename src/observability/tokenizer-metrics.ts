/**
 * Token-producer metrics, computed when /metrics is read (prom-client `collect`) from each producer's
 * counters: requests tokenized and failed, tokens, characters actually encoded (what the segment cache
 * did not answer), and the segment cache's lookups by result, size and bound. Hit rate =
 * hits / (hits + misses) of `inference_extension_tokenizer_segment_cache_lookups_total`.
 */
import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';
import type { TokenProducerStats } from '../plugins/token-producer/index.js';

export interface TokenizerView {
  readonly name: string;
  readonly stats: TokenProducerStats;
}

export function registerTokenizerMetrics(registry: PromRegistry, producers: readonly TokenizerView[]): void {
  if (producers.length === 0) return;
  const totals = (name: string, help: string, labelNames: string[], values: (p: TokenizerView) => [Record<string, string>, number][]) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const p of producers) for (const [labels, v] of values(p)) this.inc(labels, v);
      },
    });
  const gauge = (name: string, help: string, value: (p: TokenizerView) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['plugin'],
      registers: [registry],
      collect() {
        for (const p of producers) {
          const v = value(p);
          if (v !== undefined) this.set({ plugin: p.name }, v);
        }
      },
    });
  totals('inference_extension_tokenizer_requests_total', 'Requests the token producer handled, by backend and outcome.', ['plugin', 'backend', 'outcome'], (p) => [
    [{ plugin: p.name, backend: p.stats.backend, outcome: 'tokenized' }, p.stats.tokenized],
    [{ plugin: p.name, backend: p.stats.backend, outcome: 'failed' }, p.stats.failures],
  ]);
  totals('inference_extension_tokenizer_tokens_total', 'Prompt tokens the token producer published.', ['plugin'], (p) => [[{ plugin: p.name }, p.stats.tokens]]);
  totals('inference_extension_tokenizer_encoded_chars_total', 'Characters sent to the encoder (local): what the segment cache did not answer.', ['plugin'], (p) => [[{ plugin: p.name }, p.stats.encodedChars]]);
  totals('inference_extension_tokenizer_segment_cache_lookups_total', 'Segment cache lookups by result (hit, miss).', ['plugin', 'result'], (p) =>
    p.stats.cache
      ? [
          [{ plugin: p.name, result: 'hit' }, p.stats.cache.hits],
          [{ plugin: p.name, result: 'miss' }, p.stats.cache.misses],
        ]
      : [],
  );
  gauge('inference_extension_tokenizer_segment_cache_bytes', 'Bytes the segment cache holds (text, ids and entry overhead).', (p) => p.stats.cache?.bytes);
  gauge('inference_extension_tokenizer_segment_cache_entries', 'Segments the segment cache holds.', (p) => p.stats.cache?.entries);
  gauge('inference_extension_tokenizer_segment_cache_max_bytes', 'The segment cache bound (local.cacheBytes).', (p) => p.stats.cache?.maxBytes);
}
