/** Runs a command's main: an EppError (bad flags, bad config) is one line on stderr and exit code 2, not a stack. */
import { EppError } from './errors.js';

export async function runCli(name: string, main: () => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await main()) ?? 0;
  } catch (err) {
    if (!(err instanceof EppError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n`);
    process.exitCode = 2;
  }
}
