import { readFile } from 'node:fs/promises';
import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { PluginRegistration } from '../../framework/plugin.js';
import { endpointKey, type DiscoverySink, type EndpointDiscovery } from '../../framework/discovery.js';
import { ConfigError } from '../../errors.js';
import { z } from 'zod';
import { param, parseParameters } from '../shared/params.js';
import { parseEndpointsFile } from './parse-endpoints.js';

export const FILE_DISCOVERY = 'file-discovery';
/** Stat polling backs up directory events, which some filesystems (and symlink swaps) do not deliver. */
const POLL_MS = 1000;
const DEBOUNCE_MS = 50;

/**
 * Endpoints from a file, reloaded on change when `watchFile` is set. A bad edit keeps the last good set;
 * endpoints gone from the file are deleted.
 */
export class FileDiscovery implements EndpointDiscovery {
  readonly type = FILE_DISCOVERY;
  #sink: DiscoverySink | undefined;
  #current = new Set<string>();
  #lastText: string | undefined;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #reloading: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly path: string,
    readonly watchFile: boolean,
    private readonly warn: (message: string) => void,
    private readonly namespace = 'default',
  ) {}

  async start(sink: DiscoverySink): Promise<void> {
    this.#sink = sink;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
      this.#apply(text);
    } catch (err) {
      throw new ConfigError(`plugin "${this.name}"`, `cannot load endpoints from "${this.path}": ${err instanceof Error ? err.message : String(err)}`);
    }
    sink.ready();
    if (this.watchFile) this.#watch();
  }

  async stop(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = undefined;
    unwatchFile(this.path);
    clearTimeout(this.#debounce);
    await this.#reloading;
  }

  /** Re-reads the file now (what the watchers call); resolves when applied or rejected. */
  reload(): Promise<void> {
    this.#reloading = this.#reloading.then(async () => {
      let text: string;
      try {
        text = await readFile(this.path, 'utf8');
      } catch (err) {
        if (this.#sink) this.warn(`cannot read "${this.path}" (${(err as NodeJS.ErrnoException).code ?? err}); keeping the last good endpoints`);
        return;
      }
      if (text === this.#lastText) return;
      try {
        this.#apply(text);
      } catch (err) {
        this.warn(`"${this.path}" is not a valid endpoints file (${(err as Error).message}); keeping the last good endpoints`);
      }
    });
    return this.#reloading;
  }

  #apply(text: string): void {
    const { endpoints, skipped } = parseEndpointsFile(text, this.namespace);
    for (const reason of skipped) this.warn(`skipping ${reason}`);
    const next = new Set(endpoints.map(endpointKey));
    for (const e of endpoints) this.#sink!.upsert(e);
    for (const key of this.#current) if (!next.has(key)) this.#sink!.delete(key);
    this.#current = next;
    this.#lastText = text;
  }

  #watch(): void {
    const file = basename(this.path);
    const schedule = () => {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => void this.reload(), DEBOUNCE_MS);
    };
    // The directory, not the file: atomic renames and ConfigMap symlink swaps replace the file itself.
    this.#watcher = watch(dirname(resolve(this.path)), (_event, changed) => {
      if (!changed || changed === file || changed.startsWith('..')) schedule();
    });
    this.#watcher.on('error', () => {}); // the poll below keeps working
    watchFile(this.path, { interval: POLL_MS }, schedule);
  }
}

/** The parameters this plugin knows. */
export const parametersSchema = z.object({ path: param.string(), watchFile: param.bool() });

export const registration: PluginRegistration = {
  type: FILE_DISCOVERY,
  parameters: parametersSchema,
  factory: (name, parameters, handle) => {
    const p = parseParameters(parametersSchema, parameters);
    if (!p.path) throw new ConfigError('parameters.path', 'the endpoints file path is required');
    return new FileDiscovery(name, p.path, p.watchFile ?? false, (m) => handle.warn(m));
  },
};
