/**
 * Server cost: the real EPP against a bare ext_proc echo server (bench/echo-server.ts: same grpc-js, same
 * protobufjs codec, the same answers, no parsing, scheduling or metrics), both driven by the same non-Node
 * load generator (h2load posting one whole FULL_DUPLEX_STREAMED exchange as the body of each gRPC call).
 * Each server runs in its own child process; its CPU time (utime + stime from /proc/<pid>/stat, every
 * thread) over the timed run divided by the requests is its CPU per request. The page servers (8 pods'
 * /metrics) run in another child, so only the EPP's own scraping is in its figure, as in production.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PROCESS_PATH } from '../src/extproc/codec.js';
import { writeFramesFile } from './ext-proc-frames.js';
import { ask, registerReader } from './child-control.js';
import type { ReplayOptions, ReplayResult } from './replay-client.js';

export type ServerKind = 'echo' | 'epp';
/** h2load posting one file (one prompt for every request), or the varied-prompt client (bench/replay-client.ts). */
export type ClientKind = 'h2load' | 'varied';

export interface ServerRow {
  server: ServerKind;
  client: ClientKind;
  promptKB: number;
  /** Requests the client reports succeeded. */
  requests: number;
  failed: number;
  reqPerSec: number;
  cpuMsPerRequest: number;
  /** CPU per request less the server's idle CPU (its timers, the EPP's scraping) over the same time. */
  netCpuMsPerRequest: number;
  /** From h2load's status codes line (the varied client: calls with grpc-status 0). */
  status2xx: number;
  /** gRPC bytes received per succeeded request (h2load's traffic "data"): a gRPC error is HTTP 200 too. */
  dataBytesPerRequest: number;
  /** The server's CPU while idle (its timers, the EPP's scraping), ms per second, measured before the run. */
  idleCpuMsPerSec: number;
  /** The server's main-thread event-loop delay during the timed run (monitorEventLoopDelay, 1 ms resolution). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  seconds: number;
}

/** What a pre-run check gets: a server up and warm, the frames it will be sent. */
export interface ServerTarget {
  server: ServerKind;
  promptKB: number;
  promptBytes: number;
  grpcPort: number;
  podPorts: readonly number[];
}

export interface ServerBenchOptions {
  pods?: number;
  sizes?: readonly { promptKB: number; requests: number }[];
  clients?: readonly ClientKind[];
  /** Runs against each server after it started, before the warm-up and the timed run. */
  beforeTimed?: (target: ServerTarget) => Promise<void>;
  /** Extra node flags for the EPP child (e.g. --cpu-prof). */
  eppNodeArgs?: readonly string[];
}

/** The varied-prompt runs share this much of the prompt (a common system prompt); the rest is unique per request. */
export const SHARED_PROMPT_BYTES = 1024;
export const DEFAULT_PODS = 64;

export const DEFAULT_SIZES = [
  { promptKB: 4, requests: 20_000 },
  { promptKB: 400, requests: 1_000 },
] as const;

const H2LOAD_TIMEOUT_MS = 45_000;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export interface H2loadResult {
  total: number;
  succeeded: number;
  failed: number;
  errored: number;
  timeout: number;
  status2xx: number;
  dataBytes: number;
  reqPerSec: number;
  seconds: number;
  output: string;
}

export function parseH2load(output: string): H2loadResult {
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(output);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(output);
  const traffic = /traffic: .* \((\d+)\) data/.exec(output);
  const fin = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(output);
  if (!req || !status || !traffic || !fin) throw new Error(`unexpected h2load output:\n${output}`);
  return {
    total: Number(req[1]),
    succeeded: Number(req[4]),
    failed: Number(req[5]),
    errored: Number(req[6]),
    timeout: Number(req[7]),
    status2xx: Number(status[1]),
    dataBytes: Number(traffic[1]),
    reqPerSec: Number(fin[3]),
    seconds: Number(fin[1]) / (fin[2] === 'ms' ? 1000 : 1),
    output,
  };
}

export function assertH2load(): void {
  const probe = spawnSync('h2load', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error('h2load is not installed: the server benchmark needs it (`apt-get install nghttp2-client`)');
}

/** h2load, bounded: per-connection active/inactivity timeouts and a hard kill of the process. */
export function h2load(port: number, framesFile: string, requests: number, children: Set<ChildProcess>): Promise<H2loadResult> {
  return runH2load(['-n', String(requests), '-c', '4', '-m', '4', '-t', '1', '-T', '30s', '-N', '5s', ...grpcPost(port, framesFile)], children);
}

/** The h2load arguments that post `framesFile` as one ext_proc call per request. */
export function grpcPost(port: number, framesFile: string): string[] {
  return ['-d', framesFile, '-H', 'content-type: application/grpc', '-H', 'te: trailers', `http://127.0.0.1:${port}${PROCESS_PATH}`];
}

/** Runs h2load with `args`, killed after H2LOAD_TIMEOUT_MS whatever happens; resolves with its parsed summary. */
export function runH2load(args: readonly string[], children: Set<ChildProcess>): Promise<H2loadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: H2LOAD_TIMEOUT_MS, killSignal: 'SIGKILL' });
    children.add(child);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      if (signal) return reject(new Error(`h2load killed (${signal}) after ${H2LOAD_TIMEOUT_MS} ms:\n${out}`));
      if (code !== 0) return reject(new Error(`h2load exited with ${code}:\n${out}`));
      try {
        resolve(parseH2load(out));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** A node child whose first stdout line is JSON; rejects if it exits or stays silent. */
export function spawnNode<T>(script: string, args: string[], children: Set<ChildProcess>, ms = 15_000, env: NodeJS.ProcessEnv = process.env, nodeArgs: readonly string[] = []): Promise<{ child: ChildProcess; info: T }> {
  const child = spawn(process.execPath, [...nodeArgs, here(script), ...args], { stdio: ['pipe', 'pipe', 'inherit'], env });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} printed nothing within ${ms} ms`)), ms);
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`${script} exited early (${code ?? signal})`)));
    const reader = createInterface({ input: child.stdout! });
    registerReader(child, reader);
    reader.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve({ child, info: JSON.parse(line) as T });
      } catch (err) {
        reject(err);
      }
    });
  });
}

export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => (clearTimeout(timer), resolve()));
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** A process's user + system CPU so far (all its threads), in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  const utime = Number(fields[11]); // field 14
  const stime = Number(fields[12]); // field 15
  return ((utime + stime) * 1000) / ticksPerSecond();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runServerBench(options: ServerBenchOptions = {}): Promise<ServerRow[]> {
  assertH2load();
  const children = new Set<ChildProcess>();
  const dir = mkdtempSync(join(tmpdir(), 'server-bench-'));
  const rows: ServerRow[] = [];
  let firstId = 0;
  try {
    const pages = await spawnNode<number[]>('./page-servers.js', [String(options.pods ?? DEFAULT_PODS)], children);
    const podPorts = pages.info;
    for (const { promptKB, requests } of options.sizes ?? DEFAULT_SIZES) {
      const promptBytes = promptKB * 1024;
      const framesFile = join(dir, `exchange-${promptKB}k.bin`);
      writeFramesFile(framesFile, promptBytes);
      for (const server of ['echo', 'epp'] as const) {
        const { child, info } =
          server === 'echo'
            ? await spawnNode<{ grpcPort: number }>('./echo-server.js', [], children)
            : await spawnNode<{ grpcPort: number }>('./epp-server.js', [JSON.stringify(podPorts)], children, 30_000, process.env, options.eppNodeArgs ?? []);
        try {
          await options.beforeTimed?.({ server, promptKB, promptBytes, grpcPort: info.grpcPort, podPorts });
          const warm = await h2load(info.grpcPort, framesFile, Math.max(100, Math.floor(requests / 10)), children);
          if (warm.succeeded !== warm.total) throw new Error(`${server} ${promptKB} KB warm-up: ${warm.failed} failed, ${warm.errored} errored\n${warm.output}`);
          await sleep(200);
          const idle0 = cpuMs(child.pid!);
          const idleStart = performance.now();
          await sleep(1000);
          const idleCpuMsPerSec = ((cpuMs(child.pid!) - idle0) * 1000) / (performance.now() - idleStart);
          for (const client of options.clients ?? (['h2load', 'varied'] as const)) {
            await ask(child, 'reset');
            const cpu0 = cpuMs(child.pid!);
            const run =
              client === 'h2load'
                ? await h2load(info.grpcPort, framesFile, requests, children)
                : await variedRun(info.grpcPort, promptBytes, requests, (firstId += requests), children);
            const used = cpuMs(child.pid!) - cpu0;
            const delay = await ask<{ p99Ms: number; maxMs: number }>(child, 'delay');
            const ok = Math.max(1, run.succeeded);
            rows.push({
              server,
              client,
              promptKB,
              requests: run.succeeded,
              failed: run.total - run.succeeded,
              reqPerSec: run.reqPerSec,
              cpuMsPerRequest: used / ok,
              netCpuMsPerRequest: Math.max(0, used - idleCpuMsPerSec * run.seconds) / ok,
              status2xx: run.status2xx,
              dataBytesPerRequest: run.dataBytes / ok,
              idleCpuMsPerSec,
              loopDelayP99Ms: delay.p99Ms,
              loopDelayMaxMs: delay.maxMs,
              seconds: run.seconds,
            });
          }
        } finally {
          await stop(child);
        }
      }
    }
    return rows;
  } finally {
    await Promise.all([...children].map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The varied-prompt client in its own process, as h2load would be; its result in h2load's terms. */
async function variedRun(port: number, promptBytes: number, requests: number, firstId: number, children: Set<ChildProcess>): Promise<H2loadResult> {
  const options: ReplayOptions = { port, promptBytes, sharedBytes: SHARED_PROMPT_BYTES, requests, connections: 4, streams: 4, firstId };
  const { info: r } = await spawnNode<ReplayResult>('./replay-client.js', [JSON.stringify(options)], children, 300_000);
  if (r.errors.length > 0) console.error(`varied client against port ${port}: ${r.errors.join('; ')}`);
  return { total: r.requests, succeeded: r.ok, failed: r.failed, errored: 0, timeout: 0, status2xx: r.ok, dataBytes: r.bytesPerRequest * r.requests, reqPerSec: r.reqPerSec, seconds: r.seconds, output: JSON.stringify(r) };
}
