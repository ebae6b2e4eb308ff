/**
 * The `local` token producer's worker task: encodes segments with the native tokenizer of a model folder.
 * Imported once per worker thread (and on the main thread for inline runs); each thread builds the
 * tokenizer of a folder once (~0.7 s, ~190 MB for Qwen3) and keeps it. Imported as
 * `encode-task.js?dir=<folder>` (pooled-encoder.ts does), it builds that folder's tokenizer as it loads,
 * so a worker preloading it at start-up is ready before the first request.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NativeEncoder } from './native-encoder.js';

export interface EncodeInput {
  /** The model folder holding tokenizer.json. */
  readonly dir: string;
  readonly texts: readonly string[];
}

const encoders = new Map<string, NativeEncoder>();

function encoderOf(dir: string): NativeEncoder {
  let e = encoders.get(dir);
  if (!e) {
    e = new NativeEncoder(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
    encoders.set(dir, e);
  }
  return e;
}

export function encode(input: EncodeInput): Promise<Uint32Array[]> {
  return encoderOf(input.dir).encode(input.texts);
}

const preset = new URL(import.meta.url).searchParams.get('dir');
if (preset) encoderOf(preset);
