/**
 * The worker task that computes a long prompt's block keys off the event loop (3–4 ms for 100 K tokens in
 * JavaScript): the precise producer sends the token ids here and gets the keys back in their index form.
 */
import { BlockKeyer } from './block-keys.js';

export interface BlockKeysInput {
  readonly blockSize: number;
  readonly hashSeed: string;
  readonly model: string;
  readonly tokens: Uint32Array;
  readonly salt: string;
}

const keyers = new Map<string, BlockKeyer>();

export function blockKeys(input: BlockKeysInput): Float64Array {
  const id = `${input.blockSize}\u0000${input.hashSeed}`;
  let keyer = keyers.get(id);
  if (!keyer) keyers.set(id, (keyer = new BlockKeyer({ blockSize: input.blockSize, hashSeed: input.hashSeed })));
  return keyer.chain(input.model, input.tokens, { saltOnFirst: input.salt || undefined }).keys;
}
