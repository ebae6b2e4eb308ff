/**
 * Child process for the server benchmark: the real EPP (startEpp, plaintext, loopback, free ports, the
 * default scheduling profile) over the page servers whose ports come as a JSON list in argv[2], found
 * through file-discovery. Prints `{"grpcPort": n}` once every endpoint has been scraped; exits when
 * stdin closes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEpp } from '../src/epp.js';
import { parseArgs } from '../src/cli.js';
import { createLogger } from '../src/observability/logger.js';
import { DEFAULT_CONFIG_TEXT } from '../src/config/defaults.js';
import { serveControl } from './child-control.js';
import { Session } from 'node:inspector';
import { writeHeapSnapshot } from 'node:v8';

const ports = JSON.parse(process.argv[2] ?? '[]') as number[];
if (!Array.isArray(ports) || ports.length === 0) throw new Error('usage: epp-server.js <JSON list of page-server ports>');
const dir = mkdtempSync(join(tmpdir(), 'epp-bench-'));
const endpointsFile = join(dir, 'endpoints.yaml');
writeFileSync(endpointsFile, `endpoints: [${ports.map((port, i) => `{name: pod-${i}, address: 127.0.0.1, port: ${port}}`).join(', ')}]\n`);
const discovery = `plugins:\n- type: file-discovery\n  parameters: {path: ${JSON.stringify(endpointsFile)}, watchFile: true}\n`;
const config = `${DEFAULT_CONFIG_TEXT.replace(/^plugins:\n/m, discovery)}dataLayer:\n  discovery: {pluginRef: file-discovery}\n`;
const refresh = process.env['EPP_BENCH_REFRESH'] ?? '50ms';
const extra = (process.env['EPP_BENCH_ARGS'] ?? '').split(' ').filter(Boolean); // e.g. "--workers=1"
const args = ['--config-text', config, '--secure-serving=false', '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0', `--refresh-metrics-interval=${refresh}`, ...extra];
const log = createLogger(0, { write: () => true } as unknown as NodeJS.WritableStream);
const epp = await startEpp(parseArgs(args), log, { host: '127.0.0.1' });

const deadline = Date.now() + 10_000;
const scraped = () => {
  const endpoints = epp.dataLayer.store.snapshot().endpoints;
  return endpoints.length === ports.length && endpoints.every((e) => e.metrics.updateTime > 0);
};
while (!scraped()) {
  if (Date.now() > deadline) throw new Error(`epp-server: endpoints not all scraped within 10 s`);
  await new Promise((r) => setTimeout(r, 5));
}
process.stdout.write(JSON.stringify({ grpcPort: epp.grpcPort }) + '\n');
let heapSession: Session | undefined;
const post = (session: Session, method: string, params: object) =>
  new Promise<unknown>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
serveControl(
  {
    /** In-flight requests, open streams: both 0 once the load stopped, or something leaked. */
    state: () => ({ inFlight: epp.tracker.totalInFlight(), openStreams: epp.extProc.openStreams, endpoints: epp.dataLayer.store.snapshot().endpoints.length, rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed }),
    /** Rewrites the endpoints file (JSON list of `[name, port]`); file-discovery picks it up. */
    endpoints: (arg) => {
      const list = JSON.parse(arg) as [string, number][];
      writeFileSync(endpointsFile, `endpoints: [${list.map(([name, port]) => `{name: ${name}, address: 127.0.0.1, port: ${port}}`).join(', ')}]\n`);
      return { ok: true };
    },
    metrics: async () => ({ text: await epp.metrics.metrics() }),
    /**
     * Allocation sampling, collected objects included (bench/heap-profile.ts): start, then stop writing the
     * profile to `arg`. `heapStart promoted` leaves out what young-generation collections freed: what is left
     * outlived a scavenge (promoted to the old generation, the cost of scavenges and of mark-compact).
     */
    heapStart: async (mode) => {
      if (!heapSession) {
        heapSession = new Session();
        heapSession.connect();
      }
      const session = heapSession;
      await post(session, 'HeapProfiler.enable', {});
      await post(session, 'HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: mode !== 'promoted' });
      return { ok: true };
    },
    heapStop: async (file) => {
      const { profile } = (await post(heapSession!, 'HeapProfiler.stopSampling', {})) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      return { ok: true };
    },
    /** With --expose-gc: a full collection first, so heap figures compare across samples. */
    /** A heap snapshot (reachable objects only) written to `arg`: what is alive mid-run. */
    heapSnapshot: (file) => ({ file: writeHeapSnapshot(file) }),
    gc: () => {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) gc();
      return { collected: gc !== undefined, rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed };
    },
  },
  () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  },
);
