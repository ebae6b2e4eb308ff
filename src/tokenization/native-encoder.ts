/**
 * Encodes text with the model's tokenizer.json through Hugging Face's Rust `tokenizers` (the napi build
 * in `@anush008/tokenizers`, prebuilt for Linux/macOS/Windows on x64 and arm64, so nothing compiles at
 * install). Chosen by measurement over the pure-JavaScript ports (`@lenml/tokenizers`,
 * `@huggingface/tokenizers`): the same ids on real text, ~1.7× less CPU per token (see the README's
 * tokenization section). Its encode runs on libuv's thread pool; only copying the ids out
 * (`getIds`, ~0.2 µs a token) runs on the calling thread.
 */
import { Tokenizer } from '@anush008/tokenizers';

/** Encodes segments without the post-processor's special tokens (the caller adds those once). */
export interface SegmentEncoder {
  encode(texts: readonly string[]): Promise<Uint32Array[]>;
}

export class NativeEncoder implements SegmentEncoder {
  readonly #tokenizer: Tokenizer;

  /** `tokenizerJson`: the text of tokenizer.json. Throws when the tokenizer cannot be built from it. */
  constructor(tokenizerJson: string) {
    this.#tokenizer = Tokenizer.fromString(tokenizerJson);
  }

  async encode(texts: readonly string[]): Promise<Uint32Array[]> {
    if (texts.length === 0) return [];
    const encodings = await this.#tokenizer.encodeBatch([...texts], { addSpecialTokens: false });
    return encodings.map((e) => Uint32Array.from(e.getIds()));
  }
}
