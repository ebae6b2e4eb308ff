/**
 * Structured JSON logs (pino) with levels. Prompts and bodies are never logged by default: log fields
 * carry ids, models and endpoints only.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** verbosity 0 → info, 1+ → debug (the Go EPP's `-v`). */
export function createLogger(verbosity = 0, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino({ base: { component: 'epp' }, level: verbosity > 0 ? 'debug' : 'info' }, destination);
}
