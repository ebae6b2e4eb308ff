import type { CycleState } from '../framework/cycle-state.js';

/** The inline CycleState: a plain map, created per scheduling cycle. */
export class MapCycleState implements CycleState {
  readonly #values = new Map<string, unknown>();

  read<T>(key: string): T | undefined {
    return this.#values.get(key) as T | undefined;
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  write(key: string, value: unknown): void {
    this.#values.set(key, value);
  }
}
