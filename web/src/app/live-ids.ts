/**
 * Ids of events already delivered live, so a replay after reconnection never notifies twice.
 * Bounded: ids far older than the last few thousand cannot be replayed by a resuming stream.
 */
export class LiveIds {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = 5_000) {
    this.#capacity = capacity;
  }

  /**
   * Forgets every id: after `reset` the relay's history is another one, whose ids may repeat
   * ids seen before (a replaced store) and must not be taken for replays.
   */
  clear(): void {
    this.#ids.clear();
  }

  /** True the first time an id is seen. */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) {
      // Sets iterate in insertion order: the first one is the oldest.
      const oldest = this.#ids.values().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
    return true;
  }
}
