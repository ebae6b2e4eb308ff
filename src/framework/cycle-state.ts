/**
 * Per-scheduling-cycle state shared by the plugins of one request. Keys are strings; a plugin namespaces
 * its keys with its own name. Plugins run on the main thread read and write it directly.
 */

export interface CycleStateReader {
  read<T>(key: string): T | undefined;
  has(key: string): boolean;
}

export interface CycleState extends CycleStateReader {
  write(key: string, value: unknown): void;
}
