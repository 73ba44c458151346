/**
 * The default event store: one SQLite file (node:sqlite, WAL). Events, the current state of
 * each record and the alert outbox live in one database so a commit writes all three at once.
 * One relay process owns the file; scale-out uses the Redis store instead.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { RelayEvent } from "../domain/events.ts";
import { type Intervention, recordKey } from "../domain/intervention.ts";
import { compareEventIds, formatEventId, isEpoch, newEpoch, positionIn } from "./event-ids.ts";
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
import { SqliteCheckpointer } from "./sqlite-checkpointer.ts";
import { SqliteGeocodeCache } from "./sqlite-geocode-cache.ts";
import { type SyncFile, WalSync } from "./wal-sync.ts";

export interface SqliteStoreOptions {
  /** Path of the database file. */
  file: string;
  /**
   * `FULL` (default) syncs the WAL on every commit: an acknowledged webhook survives a power
   * cut. `NORMAL` survives a process crash only, for disks where fsync is slow.
   */
  synchronous?: "FULL" | "NORMAL";
  /** How FULL syncs the WAL file (tests replace it to control when a sync ends). */
  syncWal?: SyncFile;
  /** Pause between checkpoints of the WAL, from a worker thread (default 1 s). */
  checkpointIntervalMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  json TEXT NOT NULL
);
-- Counting recent events (/api/status) and pruning by age read events by time.
CREATE INDEX IF NOT EXISTS events_time ON events (time_ms);
CREATE TABLE IF NOT EXISTS records (
  key TEXT PRIMARY KEY,
  json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
  key TEXT PRIMARY KEY,
  destination TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
`;

interface OutboxRow {
  key: string;
  destination: string;
  payload: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

function toItem(row: OutboxRow): OutboxItem {
  return {
    key: row.key,
    destination: row.destination,
    payload: JSON.parse(row.payload),
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class SqliteStore implements EventStore, Outbox {
  readonly kind = "sqlite";
  /** Created with the database file and kept in `meta` (event-ids.ts). */
  readonly epoch: string;
  readonly #db: DatabaseSync;
  readonly #listeners = new AppendListeners();
  readonly #statements: Record<string, StatementSync>;
  /** Geocoder answers by address, in the same file (src/geocode/). */
  readonly geocodeCache: SqliteGeocodeCache;
  #lastSeq: number;
  #prunedThrough: number;
  #closed = false;
  /** FULL: commits are acknowledged once their WAL frames are synced (wal-sync.ts). */
  readonly #walSync: WalSync | null;
  readonly #checkpointer: SqliteCheckpointer;
  /** The last commit's emission: listeners hear commits in commit order, each once durable. */
  #emitted: Promise<void> = Promise.resolve();

  constructor(options: SqliteStoreOptions) {
    mkdirSync(dirname(options.file), { recursive: true });
    this.#db = new DatabaseSync(options.file);
    // The connection never fsyncs on the event loop: FULL durability comes from WalSync on the
    // thread pool, and checkpoints (which fsync too) from a worker thread.
    this.#db.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;",
    );
    this.#walSync =
      (options.synchronous ?? "FULL") === "FULL"
        ? new WalSync(`${options.file}-wal`, options.syncWal)
        : null;
    this.#db.exec("PRAGMA busy_timeout = 5000;");
    this.#db.exec(SCHEMA);
    this.geocodeCache = new SqliteGeocodeCache(this.#db);
    const prepare = (sql: string) => this.#db.prepare(sql);
    this.#statements = {
      getRecord: prepare("SELECT json FROM records WHERE key = ?"),
      putRecord: prepare(
        "INSERT INTO records (key, json) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET json = excluded.json",
      ),
      deleteRecord: prepare("DELETE FROM records WHERE key = ?"),
      allRecords: prepare("SELECT json FROM records ORDER BY key"),
      insertEvent: prepare("INSERT INTO events (seq, time_ms, json) VALUES (?, ?, ?)"),
      eventsAfter: prepare("SELECT seq, json FROM events WHERE seq > ? ORDER BY seq LIMIT ?"),
      eventsBefore: prepare("SELECT seq, json FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?"),
      countSince: prepare("SELECT COUNT(*) AS n FROM events WHERE time_ms >= ?"),
      getMeta: prepare("SELECT value FROM meta WHERE name = ?"),
      putMeta: prepare(
        "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
      ),
      addMeta: prepare("INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)"),
      pruneByCount: prepare("DELETE FROM events WHERE seq <= ?"),
      maxPrunedByAge: prepare("SELECT MAX(seq) AS seq FROM events WHERE time_ms < ?"),
      insertOutbox: prepare(
        "INSERT OR IGNORE INTO outbox (key, destination, payload, status, attempts, next_attempt_at, last_error, created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, ?, NULL, ?, ?)",
      ),
      dueOutbox: prepare(
        "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at, key LIMIT ?",
      ),
      updateOutbox: prepare(
        "UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE key = ?",
      ),
      retryOutbox: prepare(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE key = ? AND status = 'failed'",
      ),
      outboxStatus: prepare("SELECT status FROM outbox WHERE key = ?"),
      listOutbox: prepare(
        "SELECT * FROM outbox WHERE (? IS NULL OR status = ?) ORDER BY updated_at DESC LIMIT ?",
      ),
      countOutbox: prepare("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status"),
    };
    this.#lastSeq = this.#meta("last_seq");
    this.#prunedThrough = this.#meta("pruned_through");
    this.#checkpointer = new SqliteCheckpointer({
      file: options.file,
      ...(options.checkpointIntervalMs ? { intervalMs: options.checkpointIntervalMs } : {}),
      // Without the worker the WAL would grow forever: SQLite checkpoints on commit again.
      onFailure: () => {
        if (!this.#closed) this.#db.exec("PRAGMA wal_autocheckpoint = 1000;");
      },
    });
    // First open of this file (or of a file written before epochs): a new history begins.
    // OR IGNORE: another process opening the same file at once keeps the first epoch.
    this.#stmt("addMeta").run("epoch", newEpoch());
    const epoch = (this.#stmt("getMeta").get("epoch") as { value: unknown } | undefined)?.value;
    if (!isEpoch(epoch)) throw new Error(`${options.file}: invalid store epoch in meta`);
    this.epoch = epoch;
  }

  #id(seq: number): string {
    return formatEventId(this.epoch, String(seq));
  }

  /** The position of one of this store's ids; null for a foreign or malformed id. */
  #seqOf(id: string): number | null {
    const position = positionIn(this.epoch, id);
    return position === null ? null : parseSequenceId(position);
  }

  /** Rows of `events`; the id is rebuilt from the position (rows written before epochs lack it). */
  #toEvents(rows: unknown[]): RelayEvent[] {
    return (rows as { seq: number; json: string }[]).map((row) => ({
      ...(JSON.parse(row.json) as RelayEvent),
      id: this.#id(row.seq),
    }));
  }

  #stmt(name: string): StatementSync {
    const statement = this.#statements[name];
    if (!statement) throw new Error(`unknown statement ${name}`);
    return statement;
  }

  #meta(name: string): number {
    const row = this.#stmt("getMeta").get(name) as { value: number } | undefined;
    return row?.value ?? 0;
  }

  async commit(
    keys: readonly string[],
    decide: Decide,
    options?: CommitOptions,
  ): Promise<RelayEvent[]> {
    if (this.#closed) throw new Error("store closed");
    // node:sqlite is synchronous: from BEGIN to COMMIT nothing else runs on this thread, and
    // IMMEDIATE takes the write lock up front so another process cannot interleave.
    this.#db.exec("BEGIN IMMEDIATE");
    let events: RelayEvent[];
    try {
      const current = new Map<string, Intervention>();
      for (const key of keys) {
        const row = this.#stmt("getRecord").get(key) as { json: string } | undefined;
        if (row) current.set(key, JSON.parse(row.json));
      }
      const nowMs = Date.now();
      const time = new Date(nowMs).toISOString();
      let seq = this.#lastSeq;
      const first = seq + 1;
      events = decide(current).map((pending) => ({ ...pending, id: this.#id(++seq), time }));
      events.forEach((event, i) => {
        this.#stmt("insertEvent").run(first + i, nowMs, JSON.stringify(event));
        const key = recordKey(event.record.id);
        if (event.type === "record.removed") this.#stmt("deleteRecord").run(key);
        else this.#stmt("putRecord").run(key, JSON.stringify(event.record));
      });
      for (const entry of options?.outbox?.(events) ?? []) {
        this.#stmt("insertOutbox").run(
          entry.key,
          entry.destination,
          JSON.stringify(entry.payload),
          nowMs,
          nowMs,
          nowMs,
        );
      }
      if (events.length > 0) this.#stmt("putMeta").run("last_seq", seq);
      this.#db.exec("COMMIT");
      this.#lastSeq = seq;
    } catch (error) {
      // SQLite has already rolled back after SQLITE_FULL or an I/O error: a ROLLBACK then
      // throws "no transaction is active" and would hide the real cause (ENOSPC) from logs.
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
    if (!this.#walSync) {
      this.#listeners.emit(events);
      return events;
    }
    await this.#whenDurable(events, this.#walSync.durable());
    return events;
  }

  /**
   * Emits after the sync and after every earlier commit's emission. Until then the events are
   * already readable (snapshot, replay): the hub skips what a catch-up already showed, and an
   * event seen there before its sync is lost only if the power fails in those milliseconds,
   * while its webhook is still unacknowledged (Grist sends it again).
   */
  #whenDurable(events: RelayEvent[], durable: Promise<void>): Promise<void> {
    // A failed sync still emits (the state already holds the events) but the webhook is not
    // acknowledged: the disk is failing and Grist will retry.
    const done = this.#emitted.then(() => durable).finally(() => this.#listeners.emit(events));
    this.#emitted = done.catch(() => undefined);
    return done;
  }

  async readAfter(afterId: string, limit: number): Promise<ReadAfterResult> {
    const after = this.#seqOf(afterId);
    if (after === null) return { kind: "foreign" };
    if (after > this.#lastSeq || after < this.#prunedThrough) return { kind: "gap" };
    return { kind: "events", events: this.#toEvents(this.#stmt("eventsAfter").all(after, limit)) };
  }

  async readLatest(limit: number, beforeId?: string): Promise<RelayEvent[]> {
    const before = beforeId === undefined ? Number.MAX_SAFE_INTEGER : (this.#seqOf(beforeId) ?? 0);
    return this.#toEvents(this.#stmt("eventsBefore").all(before, limit).reverse());
  }

  async countSince(sinceMs: number): Promise<number> {
    return Number((this.#stmt("countSince").get(Math.floor(sinceMs)) as { n: number }).n);
  }

  async snapshot(): Promise<Snapshot> {
    const rows = this.#stmt("allRecords").all() as { json: string }[];
    return {
      records: rows.map((row) => JSON.parse(row.json)),
      lastEventId: this.#lastSeq === 0 ? null : this.#id(this.#lastSeq),
    };
  }

  async prune(policy: RetentionPolicy, now: number): Promise<number> {
    const byCount = this.#lastSeq - policy.maxEvents;
    const byAge =
      (this.#stmt("maxPrunedByAge").get(now - policy.maxAgeMs) as { seq: number | null }).seq ?? 0;
    const through = Math.max(byCount, byAge);
    if (through <= this.#prunedThrough) return 0;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const { changes } = this.#stmt("pruneByCount").run(through);
      this.#stmt("putMeta").run("pruned_through", through);
      this.#db.exec("COMMIT");
      this.#prunedThrough = through;
      return Number(changes);
    } catch (error) {
      // SQLite has already rolled back after SQLITE_FULL or an I/O error: a ROLLBACK then
      // throws "no transaction is active" and would hide the real cause (ENOSPC) from logs.
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  compareIds(a: string, b: string): number {
    return compareEventIds(this.epoch, a, b, compareSequenceIds);
  }

  onAppended(listener: (events: readonly RelayEvent[]) => void): () => void {
    return this.#listeners.add(listener);
  }

  isReady(): boolean {
    return !this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#emitted;
    await this.#checkpointer.stop();
    await this.#walSync?.close();
    this.#db.close();
  }

  // Outbox

  async due(now: number, limit: number): Promise<OutboxItem[]> {
    return (this.#stmt("dueOutbox").all(now, limit) as unknown as OutboxRow[]).map(toItem);
  }

  async markSent(key: string, now: number): Promise<void> {
    this.#stmt("updateOutbox").run("sent", now, null, now, key);
  }

  async reschedule(key: string, nextAttemptAt: number, error: string, now: number): Promise<void> {
    this.#stmt("updateOutbox").run("pending", nextAttemptAt, error, now, key);
  }

  async markFailed(key: string, error: string, now: number): Promise<void> {
    this.#stmt("updateOutbox").run("failed", now, error, now, key);
  }

  async retry(key: string, now: number): Promise<OutboxRetryResult> {
    const { changes } = this.#stmt("retryOutbox").run(now, now, key);
    if (Number(changes) > 0) return "retried";
    return this.#stmt("outboxStatus").get(key) ? "not-failed" : "not-found";
  }

  async list(filter: { status?: OutboxStatus; limit: number }): Promise<OutboxItem[]> {
    const status = filter.status ?? null;
    return (
      this.#stmt("listOutbox").all(status, status, filter.limit) as unknown as OutboxRow[]
    ).map(toItem);
  }

  async counts(): Promise<OutboxCounts> {
    const counts: OutboxCounts = { pending: 0, sent: 0, failed: 0 };
    for (const row of this.#stmt("countOutbox").all() as { status: OutboxStatus; n: number }[]) {
      counts[row.status] = row.n;
    }
    return counts;
  }
}
