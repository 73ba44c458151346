/** In-memory event store and outbox for tests and throwaway runs; same contract as SQLite. */
import type { RelayEvent } from "../domain/events.ts";
import { type Intervention, recordKey } from "../domain/intervention.ts";
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
  readonly #events: RelayEvent[] = [];
  readonly #state = new Map<string, Intervention>();
  readonly #outbox = new Map<string, OutboxItem>();
  readonly #listeners = new AppendListeners();
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
    const events = decide(current).map((pending) => ({
      ...pending,
      id: String(++this.#lastSeq),
      time,
    }));
    for (const event of events) {
      this.#events.push(event);
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
    const after = parseSequenceId(afterId);
    if (after === null || after > this.#lastSeq || after < this.#prunedThrough)
      return { kind: "gap" };
    const start = this.#events.findIndex((event) => Number(event.id) > after);
    return { kind: "events", events: start < 0 ? [] : this.#events.slice(start, start + limit) };
  }

  async readLatest(limit: number, beforeId?: string): Promise<RelayEvent[]> {
    const before =
      beforeId === undefined ? Number.POSITIVE_INFINITY : (parseSequenceId(beforeId) ?? 0);
    const older = this.#events.filter((event) => Number(event.id) < before);
    return older.slice(Math.max(0, older.length - limit));
  }

  async snapshot(): Promise<Snapshot> {
    return {
      records: [...this.#state.values()],
      lastEventId: this.#lastSeq === 0 ? null : String(this.#lastSeq),
    };
  }

  async prune(policy: RetentionPolicy, now: number): Promise<number> {
    const oldestKept = now - policy.maxAgeMs;
    let drop = Math.max(0, this.#events.length - policy.maxEvents);
    while (drop < this.#events.length && Date.parse(this.#events[drop]?.time ?? "") < oldestKept)
      drop++;
    const dropped = this.#events.splice(0, drop);
    const last = dropped.at(-1);
    if (last) this.#prunedThrough = Number(last.id);
    return dropped.length;
  }

  compareIds(a: string, b: string): number {
    return compareSequenceIds(a, b);
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
