/** In-memory event store and outbox for tests and throwaway runs; same contract as SQLite. */
import type { RelayEvent } from "../domain/events.ts";
import { type Intervention, recordKey } from "../domain/intervention.ts";
import { MemoryGeocodeCache } from "../geocode/geocode-cache.ts";
import { compareEventIds, formatEventId, newEpoch, positionIn } from "./event-ids.ts";
import type {
  CommitOptions,
  Decide,
  EventStore,
  ReadAfterResult,
  RetentionPolicy,
  Snapshot,
} from "./event-store.ts";
import { AppendListeners, compareSequenceIds, parseSequenceId } from "./listeners.ts";
import type {
  Outbox,
  OutboxCounts,
  OutboxItem,
  OutboxRetryResult,
  OutboxStatus,
} from "./outbox.ts";

export class MemoryStore implements EventStore, Outbox {
  readonly kind = "memory";
  /** A new one per process: a restarted `demo` is a new history (event-ids.ts). */
  readonly epoch = newEpoch();
  /** Events with their position, oldest first. */
  readonly #events: { seq: number; event: RelayEvent }[] = [];
  readonly #state = new Map<string, Intervention>();
  readonly #outbox = new Map<string, OutboxItem>();
  readonly #listeners = new AppendListeners();
  /** Geocoder answers by address, for as long as the process lives. */
  readonly geocodeCache = new MemoryGeocodeCache();
  #lastSeq = 0;
  #prunedThrough = 0;

  async commit(
    keys: readonly string[],
    decide: Decide,
    options?: CommitOptions,
  ): Promise<RelayEvent[]> {
    const current = new Map<string, Intervention>();
    for (const key of keys) {
      const record = this.#state.get(key);
      if (record) current.set(key, record);
    }
    const time = new Date().toISOString();
    const entries = decide(current).map((pending) => {
      const seq = ++this.#lastSeq;
      return { seq, event: { ...pending, id: formatEventId(this.epoch, String(seq)), time } };
    });
    const events = entries.map((entry) => entry.event);
    for (const entry of entries) {
      this.#events.push(entry);
      const event = entry.event;
      const key = recordKey(event.record.id);
      if (event.type === "record.removed") this.#state.delete(key);
      else this.#state.set(key, event.record);
    }
    const now = Date.now();
    for (const entry of options?.outbox?.(events) ?? []) {
      if (this.#outbox.has(entry.key)) continue;
      this.#outbox.set(entry.key, {
        ...entry,
        status: "pending",
        attempts: 0,
        nextAttemptAt: now,
        lastError: null,
        createdAt: now,
        updatedAt: now,
      });
    }
    this.#listeners.emit(events);
    return events;
  }

  async readAfter(afterId: string, limit: number): Promise<ReadAfterResult> {
    const after = this.#seqOf(afterId);
    if (after === null) return { kind: "foreign" };
    if (after > this.#lastSeq || after < this.#prunedThrough) return { kind: "gap" };
    const start = this.#events.findIndex((entry) => entry.seq > after);
    const page = start < 0 ? [] : this.#events.slice(start, start + limit);
    return { kind: "events", events: page.map((entry) => entry.event) };
  }

  async readLatest(limit: number, beforeId?: string): Promise<RelayEvent[]> {
    const before = beforeId === undefined ? Number.POSITIVE_INFINITY : (this.#seqOf(beforeId) ?? 0);
    const older = this.#events.filter((entry) => entry.seq < before);
    return older.slice(Math.max(0, older.length - limit)).map((entry) => entry.event);
  }

  async countSince(sinceMs: number): Promise<number> {
    return this.#events.filter((entry) => Date.parse(entry.event.time) >= sinceMs).length;
  }

  async snapshot(): Promise<Snapshot> {
    return {
      records: [...this.#state.values()],
      lastEventId: this.#lastSeq === 0 ? null : formatEventId(this.epoch, String(this.#lastSeq)),
    };
  }

  /** The position of one of this store's ids; null for a foreign or malformed id. */
  #seqOf(id: string): number | null {
    const position = positionIn(this.epoch, id);
    return position === null ? null : parseSequenceId(position);
  }

  async prune(policy: RetentionPolicy, now: number): Promise<number> {
    const oldestKept = now - policy.maxAgeMs;
    let drop = Math.max(0, this.#events.length - policy.maxEvents);
    while (
      drop < this.#events.length &&
      Date.parse(this.#events[drop]?.event.time ?? "") < oldestKept
    )
      drop++;
    const dropped = this.#events.splice(0, drop);
    const last = dropped.at(-1);
    if (last) this.#prunedThrough = last.seq;
    return dropped.length;
  }

  compareIds(a: string, b: string): number {
    return compareEventIds(this.epoch, a, b, compareSequenceIds);
  }

  onAppended(listener: (events: readonly RelayEvent[]) => void): () => void {
    return this.#listeners.add(listener);
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {}

  // Outbox

  async due(now: number, limit: number): Promise<OutboxItem[]> {
    return [...this.#outbox.values()]
      .filter((item) => item.status === "pending" && item.nextAttemptAt <= now)
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit)
      .map((item) => ({ ...item }));
  }

  async markSent(key: string, now: number): Promise<void> {
    this.#update(key, {
      status: "sent",
      updatedAt: now,
      attempts: (this.#outbox.get(key)?.attempts ?? 0) + 1,
    });
  }

  async reschedule(key: string, nextAttemptAt: number, error: string, now: number): Promise<void> {
    const attempts = (this.#outbox.get(key)?.attempts ?? 0) + 1;
    this.#update(key, { nextAttemptAt, lastError: error, attempts, updatedAt: now });
  }

  async markFailed(key: string, error: string, now: number): Promise<void> {
    const attempts = (this.#outbox.get(key)?.attempts ?? 0) + 1;
    this.#update(key, { status: "failed", lastError: error, attempts, updatedAt: now });
  }

  async retry(key: string, now: number): Promise<OutboxRetryResult> {
    const item = this.#outbox.get(key);
    if (!item) return "not-found";
    if (item.status !== "failed") return "not-failed";
    this.#update(key, { status: "pending", attempts: 0, nextAttemptAt: now, updatedAt: now });
    return "retried";
  }

  async list(filter: { status?: OutboxStatus; limit: number }): Promise<OutboxItem[]> {
    return [...this.#outbox.values()]
      .filter((item) => !filter.status || item.status === filter.status)
      .sort((a, b) => b.updatedAt - a.updatedAt)
      .slice(0, filter.limit)
      .map((item) => ({ ...item }));
  }

  async counts(): Promise<OutboxCounts> {
    const counts: OutboxCounts = { pending: 0, sent: 0, failed: 0 };
    for (const item of this.#outbox.values()) counts[item.status]++;
    return counts;
  }

  #update(key: string, patch: Partial<OutboxItem>): void {
    const item = this.#outbox.get(key);
    if (item) this.#outbox.set(key, { ...item, ...patch });
  }
}
