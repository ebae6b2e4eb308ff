/**
 * The `--resources-file`, loaded once and optionally watched. A bad edit keeps the last good resources;
 * a good one replaces them and fires `onChange`.
 */
import { readFile } from 'node:fs/promises';
import { watch, watchFile, unwatchFile, type FSWatcher, type StatsListener } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { parseResources, type Resources } from './manifests.js';

/** Stat polling backs up directory events, which some filesystems (and symlink swaps) do not deliver. */
const POLL_MS = 1000;
const DEBOUNCE_MS = 50;

export interface ResourceFileLog {
  warn(message: string): void;
  info(message: string): void;
}

export interface ResourceFileOptions {
  readonly watch: boolean;
  readonly log: ResourceFileLog;
}

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const counts = (r: Resources): string => {
  const n = r.objectives.size;
  const m = r.rewrites.length;
  return `${n} objective${n === 1 ? '' : 's'}, ${m} rewrite rule${m === 1 ? '' : 's'}`;
};

export class ResourceFile {
  /** Called after a good edit has replaced the resources (not for the initial load). */
  onChange?: (r: Resources) => void;
  #current: Resources;
  #lastText: string;
  #watcher: FSWatcher | undefined;
  #poll: StatsListener | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #reloading: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(
    readonly path: string,
    private readonly log: ResourceFileLog,
    text: string,
    resources: Resources,
  ) {
    this.#lastText = text;
    this.#current = resources;
  }

  /** Loads `path`; throws a ConfigError (path `resources-file`) naming the file when it is unreadable or invalid. */
  static async open(path: string, options: ResourceFileOptions): Promise<ResourceFile> {
    let text: string;
    let resources: Resources;
    try {
      text = await readFile(path, 'utf8');
      resources = parseResources(text, path);
    } catch (err) {
      throw new ConfigError('resources-file', `cannot load resources from "${path}": ${reason(err)}`);
    }
    const file = new ResourceFile(path, options.log, text, resources);
    if (options.watch) file.#watch();
    return file;
  }

  get current(): Resources {
    return this.#current;
  }

  /** Stops the watchers and the debounce timer; resolves once an in-flight reload has finished. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#poll) unwatchFile(this.path, this.#poll);
    this.#poll = undefined;
    clearTimeout(this.#debounce);
    this.#debounce = undefined;
    await this.#reloading;
  }

  /** Re-reads the file now (what the watchers call); resolves when applied or rejected. */
  reload(): Promise<void> {
    this.#reloading = this.#reloading.then(async () => {
      if (this.#closed) return;
      let text: string;
      try {
        text = await readFile(this.path, 'utf8');
      } catch (err) {
        this.log.warn(`cannot read resources file "${this.path}" (${(err as NodeJS.ErrnoException).code ?? reason(err)}); keeping the last good resources`);
        return;
      }
      if (this.#closed || text === this.#lastText) return;
      let next: Resources;
      try {
        next = parseResources(text, this.path);
      } catch (err) {
        this.log.warn(`"${this.path}" is not a valid resources file (${reason(err)}); keeping the last good resources`);
        return;
      }
      this.#lastText = text;
      this.#current = next;
      this.log.info(`reloaded resources from "${this.path}": ${counts(next)}`);
      try {
        this.onChange?.(next);
      } catch (err) {
        this.log.warn(`a resources change listener failed: ${reason(err)}`);
      }
    });
    return this.#reloading;
  }

  #watch(): void {
    const file = basename(this.path);
    const schedule = () => {
      if (this.#closed) return;
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => {
        this.#debounce = undefined;
        void this.reload();
      }, DEBOUNCE_MS);
    };
    // The directory, not the file: atomic renames and ConfigMap symlink swaps replace the file itself.
    this.#watcher = watch(dirname(resolve(this.path)), (_event, changed) => {
      if (!changed || changed === file || changed.startsWith('..')) schedule();
    });
    this.#watcher.on('error', () => {}); // the poll below keeps working
    this.#poll = () => schedule();
    watchFile(this.path, { interval: POLL_MS }, this.#poll);
  }
}
