#!/usr/bin/env node
/** `epp`: flags → a running EPP (ext_proc, health, metrics) until SIGINT/SIGTERM. */
import { parseArgs, usage } from './cli.js';
import { createLogger } from './observability/logger.js';
import { runCli } from './run-cli.js';
import { startEpp } from './epp.js';
import { versionLine } from './version.js';

async function main(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  if (options.help) {
    process.stdout.write(usage());
    return 0;
  }
  if (options.version) {
    process.stdout.write(versionLine('epp'));
    return 0;
  }
  const log = createLogger(options.verbosity);
  const epp = await startEpp(options, log);
  if (!epp.dataLayer.discovery) {
    log.warn('no discovery: the pool stays empty and requests get 503 (give --pool-name for an InferencePool, --endpoint-selector for standalone Kubernetes discovery, a file-discovery plugin in the config, or `npm start` for the simulated demo)');
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  if (signal === 'SIGTERM') {
    // Graceful: readiness NOT_SERVING and the lease released at once, open streams served for --drain-timeout.
    // A second SIGTERM or a SIGINT cuts the drain short.
    const cut = new Promise<void>((resolve) => (process.once('SIGTERM', () => resolve()), process.once('SIGINT', () => resolve())));
    await Promise.race([epp.drain(options.drainTimeout), cut]);
  }
  log.info('shutting down');
  await epp.close();
  return 0;
}

await runCli('epp', () => main(process.argv.slice(2)));
