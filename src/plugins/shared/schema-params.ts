/**
 * A parameter schema that only names the keys a plugin knows, for plugins that validate their values in
 * their factory (nested or legacy parameter shapes): the loader warns about any other key.
 */
import { z } from 'zod';

export function knownParameters(...keys: string[]): z.ZodObject {
  return z.object(Object.fromEntries(keys.map((k) => [k, z.unknown()])));
}
