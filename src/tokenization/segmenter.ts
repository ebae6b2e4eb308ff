/**
 * Splits text into segments that tokenize independently. Hugging Face tokenizers split the input on
 * added tokens before anything else (added_vocabulary.rs): only the pieces between them are normalised,
 * pre-tokenised and encoded. So cutting the text right before an added token gives pieces whose ids,
 * concatenated, are exactly the ids of the whole text — provided the token cannot swallow what precedes
 * it (no `lstrip`, not `single_word`), is matched on the raw text (not `normalized`) and is not a tail of
 * a longer added token. Those tokens are the boundaries; every other split point is the tokenizer's own.
 *
 * A chat template puts special tokens around every message, so a rendered conversation splits into
 * per-message segments, and a conversation that grows by a turn shares all earlier segments.
 */
import type { AddedToken } from './model-files.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Segmenter {
  readonly #pattern: RegExp | undefined;
  /** Boundary token strings, for tests and logs. */
  readonly boundaries: readonly string[];

  constructor(addedTokens: readonly AddedToken[]) {
    const candidates = addedTokens.filter((t) => t.special && !t.lstrip && !t.singleWord && !t.normalized && t.content.length > 0);
    // A longer added token that contains a candidate after its first character could match across the cut.
    const safe = candidates.filter((c) => !addedTokens.some((t) => t.content !== c.content && t.content.indexOf(c.content, 1) > 0));
    this.boundaries = safe.map((t) => t.content);
    // Longest first, so a token that is a prefix of another never wins over it.
    const alternatives = [...this.boundaries].sort((a, b) => b.length - a.length).map(escape);
    this.#pattern = alternatives.length > 0 ? new RegExp(alternatives.join('|'), 'g') : undefined;
  }

  /** The segments of `text`, in order; joined they give `text` back. Empty text gives none. */
  split(text: string): string[] {
    if (text.length === 0) return [];
    const pattern = this.#pattern;
    if (!pattern) return [text];
    const out: string[] = [];
    let start = 0;
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      if (m.index > start) out.push(text.slice(start, m.index));
      start = m.index;
    }
    out.push(text.slice(start));
    return out;
  }
}
