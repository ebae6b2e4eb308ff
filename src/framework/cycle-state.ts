/**
 * Per-scheduling-cycle state shared by the plugins of one request. Keys are strings; a plugin namespaces
 * its keys with its own name. When scorers run in parallel, each sees a read-only view as it stood when
 * scoring began and its writes are applied afterwards in profile order.
 */

export interface CycleStateReader {
  read<T>(key: string): T | undefined;
  has(key: string): boolean;
}

export interface CycleState extends CycleStateReader {
  write(key: string, value: unknown): void;
}
