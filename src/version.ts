/** The version in package.json, read once (dist/src/version.js sits two folders below it). */
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** What `--version` prints: `<command> <version>`. */
export const versionLine = (command: string) => `${command} ${VERSION} (epp-ts)\n`;
