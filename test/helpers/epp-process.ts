/** A real `epp` process (dist/src/main.js) for tests that need signals and exit codes: its ports come from its start-up log line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { healthServiceDefinition, encodeHealthRequest, decodeHealthResponse, type HealthCheckRequest, type HealthCheckResponse } from '../../src/server/health.js';
import { until } from './until.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface EppProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  grpcPort: number;
  healthPort: number;
  metricsPort: number;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  /** Status of a health service ('readiness', 'liveness', ''), as a number (1 SERVING, 2 NOT_SERVING). */
  health(service: string): Promise<number>;
  kill(signal?: NodeJS.Signals): void;
  close(): Promise<void>;
}

export async function startEppProcess(args: readonly string[], env: Record<string, string> = {}, startMs = 15_000): Promise<EppProcess> {
  const child = spawn(process.execPath, [MAIN, '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffered = '';
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  let exitedWith: number | string | undefined;
  void exited.then((c) => (exitedWith = c));
  const client: { c?: grpc.Client } = {};
  const p: EppProcess = {
    child,
    lines,
    grpcPort: 0,
    healthPort: 0,
    metricsPort: 0,
    exited,
    health: (service) =>
      new Promise((resolve, reject) => {
        client.c ??= new grpc.Client(`127.0.0.1:${p.healthPort}`, grpc.credentials.createInsecure());
        client.c.makeUnaryRequest<HealthCheckRequest, HealthCheckResponse>(healthServiceDefinition.Check.path, encodeHealthRequest, decodeHealthResponse, { service }, (err, res) =>
          err ? reject(err) : resolve(res!.status ?? 0),
        );
      }),
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    close: async () => {
      client.c?.close();
      if (exitedWith === undefined) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  try {
    await until(() => exitedWith !== undefined || lines.some((l) => l.includes('"EPP serving"')), 'the EPP to start', startMs);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${lines.join('\n')}`);
  }
  if (exitedWith !== undefined) throw new Error(`epp exited with ${exitedWith} at start:\n${lines.join('\n')}`);
  const serving = JSON.parse(lines.find((l) => l.includes('"EPP serving"'))!) as { grpcPort: number; healthPort: number; metricsPort: number };
  p.grpcPort = serving.grpcPort;
  p.healthPort = serving.healthPort;
  p.metricsPort = serving.metricsPort;
  return p;
}
