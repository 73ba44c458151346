/**
 * The events the chronology and the hourly chart show: history pages from `/api/events` merged
 * with live events, each id once, oldest first, bounded so a dashboard left open for weeks keeps
 * a flat memory profile.
 */
import type { LiveEvent } from "./types.ts";

export const DEFAULT_EVENT_LOG_CAPACITY = 5_000;

export class EventLog {
  readonly #capacity: number;
  #events: LiveEvent[] = [];
  readonly #ids = new Set<string>();

  constructor(capacity = DEFAULT_EVENT_LOG_CAPACITY) {
    this.#capacity = capacity;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Appends a live event; false when its id was already known (a replayed duplicate). */
  append(event: LiveEvent): boolean {
    if (this.#ids.has(event.id)) return false;
    this.#events.push(event);
    this.#ids.add(event.id);
    this.#trim();
    return true;
  }

  /**
   * Adds a history page (oldest first) that is older than, or overlaps, what is held: ids are
   * opaque and only compared for equality, so order comes from where each list was obtained.
   */
  prepend(older: readonly LiveEvent[]): void {
    const olderIds = new Set<string>();
    const fresh: LiveEvent[] = [];
    for (const event of older) {
      if (olderIds.has(event.id)) continue;
      olderIds.add(event.id);
      fresh.push(event);
    }
    this.#events = [...fresh, ...this.#events.filter((event) => !olderIds.has(event.id))];
    for (const id of olderIds) this.#ids.add(id);
    this.#trim();
  }

  clear(): void {
    this.#events = [];
    this.#ids.clear();
  }

  /** Oldest first. */
  list(): readonly LiveEvent[] {
    return this.#events;
  }

  get oldest(): LiveEvent | undefined {
    return this.#events[0];
  }

  get size(): number {
    return this.#events.length;
  }

  #trim(): void {
    const excess = this.#events.length - this.#capacity;
    if (excess <= 0) return;
    for (const event of this.#events.splice(0, excess)) this.#ids.delete(event.id);
  }
}
