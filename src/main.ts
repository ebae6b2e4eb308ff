#!/usr/bin/env node
/** Composition root: flags → config → scheduler. */
import { parseArgs, usage } from './cli.js';
import { loadConfig } from './config/loader.js';
import { Registry } from './framework/registry.js';
import { registerInTreePlugins } from './plugins/index.js';
import { systemRandom } from './scheduling/random.js';
import { createLogger } from './observability/logger.js';
import { EppError } from './errors.js';
import { routeDemo } from './demo/route-demo.js';

async function main(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  if (options.help) {
    process.stdout.write(usage());
    return 0;
  }
  const log = createLogger(options.verbosity);
  const config = loadConfig(
    { configFile: options.configFile || undefined, configText: options.configText || undefined },
    registerInTreePlugins(new Registry()),
    { random: systemRandom, now: Date.now },
    { warn: (m) => log.warn(m), info: (m) => log.info(m) },
  );
  const profiles = config.scheduler.profiles.map((p) => ({
    name: p.name,
    filters: p.filters.map((f) => f.name),
    scorers: p.scorers.map((s) => `${s.scorer.name}×${s.weight}`),
    picker: p.picker.name,
  }));
  log.info({ handler: config.scheduler.profileHandler.name, profiles, producers: config.producers.map((p) => p.name) }, 'config loaded');
  await routeDemo(config, (line) => process.stdout.write(line + '\n'), {
    refreshMs: options.refreshMetricsInterval,
    stalenessMs: options.metricsStalenessThreshold,
    log: { warn: (m) => log.warn(m), info: (m) => log.info(m) },
  });
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof EppError) {
    process.stderr.write(`epp: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
