/**
 * The benchmark's children take commands on stdin, one per line, and answer each with one JSON line on
 * stdout (after the JSON line they print when ready). Closing stdin ends the child.
 */
import type { ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface, type Interface } from 'node:readline';

export type Handler = (arg: string) => unknown;

/** In the child: answers commands; `reset`/`delay` (event-loop delay since the last reset) come built in. */
export function serveControl(handlers: Record<string, Handler>, onEnd: () => void = () => process.exit(0)): void {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const all: Record<string, Handler> = {
    reset: () => (delay.reset(), { ok: true }),
    delay: () => ({ p50Ms: delay.percentile(50) / 1e6, p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 }),
    memory: () => process.memoryUsage(),
    ...handlers,
  };
  createInterface({ input: process.stdin }).on('line', async (line) => {
    const space = line.indexOf(' ');
    const [name, arg] = space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
    const handler = all[name];
    let answer: unknown;
    try {
      answer = handler ? await handler(arg) : { error: `unknown command ${name}` };
    } catch (err) {
      answer = { error: (err as Error).message };
    }
    process.stdout.write(JSON.stringify(answer) + '\n');
  });
  process.stdin.on('end', onEnd);
}

const readers = new WeakMap<ChildProcess, Interface>();

/** The parent's side: the child's stdout as lines (spawnNode registers it). */
export function registerReader(child: ChildProcess, reader: Interface): void {
  readers.set(child, reader);
}

/** Sends a command and resolves with the child's JSON answer. Commands to one child must not overlap. */
export function ask<T>(child: ChildProcess, command: string, ms = 30_000): Promise<T> {
  const reader = readers.get(child);
  if (!reader) throw new Error('ask: child was not started by spawnNode');
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to "${command.slice(0, 40)}" within ${ms} ms`)), ms);
    reader.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as T);
      } catch (err) {
        reject(err);
      }
    });
    child.stdin!.write(command + '\n');
  });
}
