/**
 * The event store seam. Implementations: memory (tests), SQLite (default), Redis (scale-out).
 *
 * Contract every implementation keeps (checked by `test/support/event-store-contract.ts`):
 * - `commit` is atomic: the decision is taken on the state as it is at that moment, the events
 *   and the new states are written together, and nothing is visible before the promise settles.
 * - Event ids are `<epoch>.<position>` (event-ids.ts): the epoch is created with the store and
 *   kept with it, positions strictly increase in commit order; `compareIds` orders them.
 * - An id of another epoch is foreign: `readAfter` says so, it never reads it as a position.
 * - Every committed event reaches every `onAppended` listener once, in id order.
 */

import type { PendingEvent, RelayEvent } from "../domain/events.ts";
import type { Intervention } from "../domain/intervention.ts";

/** Given the current state of the rows a batch touches, returns the events to store. */
export type Decide = (current: ReadonlyMap<string, Intervention>) => PendingEvent[];

/** A side effect stored in the same transaction as its events (alerts, issue 5/6). */
export interface OutboxEntry {
  /** Unique: inserting the same key twice keeps the first (so redelivery sends nothing twice). */
  key: string;
  destination: string;
  payload: unknown;
}

export interface CommitOptions {
  /** Side effects derived from the new events, written atomically with them. */
  outbox?: (events: readonly RelayEvent[]) => OutboxEntry[];
}

export interface Snapshot {
  records: Intervention[];
  /** Id of the newest event reflected in `records`; null when the store is empty. */
  lastEventId: string | null;
}

export type ReadAfterResult =
  | { kind: "events"; events: RelayEvent[] }
  /** The id is unknown or older than the retained history: the reader missed events. */
  | { kind: "gap" }
  /**
   * The id comes from another history (another epoch: the store was replaced or wiped) or is
   * not an event id at all: nothing the reader holds can be trusted.
   */
  | { kind: "foreign" };

export interface RetentionPolicy {
  maxEvents: number;
  maxAgeMs: number;
}

export interface EventStore {
  /** Name for logs and `/api/status`. */
  readonly kind: "memory" | "sqlite" | "redis";
  /** Epoch of the history the store holds now (event-ids.ts); Redis can start a new one. */
  readonly epoch: string;
  /** Atomically reads the current state of `keys`, lets `decide` compute events, stores them. */
  commit(keys: readonly string[], decide: Decide, options?: CommitOptions): Promise<RelayEvent[]>;
  /** Up to `limit` events strictly after `afterId`, oldest first. */
  readAfter(afterId: string, limit: number): Promise<ReadAfterResult>;
  /** The newest `limit` events, oldest first (`beforeId` pages backwards). */
  readLatest(limit: number, beforeId?: string): Promise<RelayEvent[]>;
  /**
   * How many stored events were committed at or after `sinceMs` (epoch ms): what `/api/status`
   * reports, so it survives a restart. May stop counting at a large bound (Redis: 1 000 000).
   */
  countSince(sinceMs: number): Promise<number>;
  /** Current state of every known record and the id it is consistent with. */
  snapshot(): Promise<Snapshot>;
  /** Drops history beyond the policy; returns how many events went. Never touches state. */
  prune(policy: RetentionPolicy, now: number): Promise<number>;
  /** Negative when a is older than b. */
  compareIds(a: string, b: string): number;
  /** Registers a listener for committed events; returns the unsubscribe function. */
  onAppended(listener: (events: readonly RelayEvent[]) => void): () => void;
  /**
   * Optional: told when listeners missed events (Redis entries trimmed before this instance
   * read them); the hub then sends its subscribers through the reset path.
   */
  onGap?(listener: () => void): () => void;
  /** False while the backing service is unreachable. */
  isReady(): boolean;
  close(): Promise<void>;
}
