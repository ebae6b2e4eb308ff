/**
 * Config the Go EPP reads that this EPP handles only in part: which parser `requestHandler.parsers` names,
 * and feature gates. What is built is honoured; what is not is said once at start, naming the key.
 */
import type { RawConfig } from './schema.js';

/** The parser the config names, and where: `parser.pluginRef`, else the first of `requestHandler.parsers`. */
export function parserRefOf(raw: RawConfig, warn: (message: string) => void): { ref: string; path: string } | undefined {
  const listed = raw.requestHandler?.parsers ?? [];
  if (raw.parser) {
    if (listed.length > 0) warn('requestHandler.parsers is ignored: parser.pluginRef names the parser');
    return { ref: raw.parser.pluginRef, path: 'parser.pluginRef' };
  }
  if (listed.length === 0) return undefined;
  if (listed.length > 1) {
    warn(`requestHandler.parsers names ${listed.length} parsers; choosing one per request path is not built here, so "${listed[0]!.pluginRef}" parses every request (requestHandler.parsers[1..] ignored)`);
  }
  return { ref: listed[0]!.pluginRef, path: 'requestHandler.parsers[0].pluginRef' };
}

/** Feature gates this EPP does not act on yet: enabling one is accepted and said. */
const NOT_ACTED_ON: ReadonlySet<string> = new Set(['dataLayer', 'prepareDataPlugins']);

export function featureGateWarnings(gates: ReadonlyMap<string, boolean>): string[] {
  return [...gates].filter(([name, on]) => on && NOT_ACTED_ON.has(name)).map(([name]) => `featureGates: "${name}" is accepted but has no effect in this EPP`);
}
