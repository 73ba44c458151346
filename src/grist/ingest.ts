/**
 * The ingest service: decoded Grist rows in, events out. It is the only writer of the store,
 * for webhooks, the start-up sync and reconciliation alike.
 */
import { type DecisionStats, decideEvents } from "../domain/changes.ts";
import type { ColumnMapping } from "../domain/column-mapping.ts";
import type { EventSource, PendingEvent, RelayEvent } from "../domain/events.ts";
import { type Intervention, type RecordId, recordKey } from "../domain/intervention.ts";
import { normalizeRecord } from "../domain/normalize.ts";
import { keepGeocodedPosition } from "../geocode/placement.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { CommitOptions, EventStore } from "../store/event-store.ts";
import { decodeRow } from "./decode.ts";
import type { IncomingRow } from "./webhook-payload.ts";
import { keysChangedByWebhookSince } from "./webhook-shield.ts";

export interface IngestOptions {
  source: EventSource;
  /** Which Grist webhook sent the batch (`?event=`), when known. */
  hint?: "add" | "update";
  /** Merge the columns into the known record instead of replacing it (the guide's partial posts). */
  merge?: boolean;
  /**
   * Epoch ms when a reconciliation began reading Grist: rows a webhook changed after that are
   * newer than what was read and keep the webhook's state.
   */
  readStartedAt?: number;
}

export interface IngestResult {
  received: number;
  events: RelayEvent[];
  unchanged: number;
  /** Webhook rows whose `Derniere_MAJ` looked older than the stored one (re-read or applied). */
  older: number;
}

/** Flat rows (`{id, ColId: value…}`) of the given row ids, as Grist has them now. */
export type RereadRows = (ids: readonly RecordId[]) => Promise<Record<string, unknown>[]>;

export interface IngestLogger {
  warn(details: object, message: string): void;
}

/** Remembers when each batch arrived so the hub can measure webhook → socket latency. */
export class IngestClock {
  readonly #started = new Map<string, number>();
  /** Start of the batch being committed: in-process stores notify listeners inside commit. */
  #current: number | undefined;

  begin(startedAt: number): void {
    this.#current = startedAt;
  }

  end(): void {
    this.#current = undefined;
  }

  mark(events: readonly RelayEvent[], startedAt: number): void {
    for (const event of events) this.#started.set(event.id, startedAt);
    // Bounded even if events are never delivered (no hub in a CLI run).
    while (this.#started.size > 10_000)
      this.#started.delete(this.#started.keys().next().value as string);
  }

  take(eventId: string): number | undefined {
    const started = this.#started.get(eventId);
    if (started === undefined) return this.#current;
    this.#started.delete(eventId);
    return started;
  }
}

export interface IngestorOptions {
  store: EventStore;
  mapping: ColumnMapping;
  metrics: Metrics;
  clock?: IngestClock;
  /** Side effects stored with the events (alert outbox). */
  outbox?: CommitOptions["outbox"];
  /**
   * With Grist configured: re-reads a webhook row that looks older than the stored state, so
   * the relay keeps what Grist says now. Without it such a row is applied (last write wins).
   */
  reread?: RereadRows;
  logger?: IngestLogger;
  /** Told of every stored batch, after the commit (the geocoder queues addresses). */
  afterCommit?: (events: readonly RelayEvent[]) => void;
}

/** How long a webhook change shields a row from an older reconciliation read. */
const WEBHOOK_SHIELD_MS = 10 * 60_000;

export class Ingestor {
  readonly #options: IngestorOptions;
  /**
   * When a webhook last changed each row (this instance only). A reconciliation reads Grist,
   * then ingests: a webhook landing in between must not be undone by the older read.
   */
  readonly #webhookChangedAt = new Map<string, number>();

  constructor(options: IngestorOptions) {
    this.#options = options;
  }

  /** Flat rows as Grist sends them (`{id, ColId: value…}`), for the reconciler and sync. */
  ingest(rows: Record<string, unknown>[], options: IngestOptions): Promise<IngestResult> {
    return this.ingestRows(
      rows.map(({ id, ...columns }) => ({ id: id as RecordId, columns })),
      options,
    );
  }

  async ingestRows(
    incoming: readonly IncomingRow[],
    options: IngestOptions,
  ): Promise<IngestResult> {
    const reread = this.#options.reread;
    // A row that looks older is held back only when Grist can be asked which state is current.
    const hold = reread !== undefined && options.source === "webhook";
    const result = await this.#ingestRows(incoming, options, hold ? "hold" : "apply");
    if (result.older.length === 0) return { ...result, older: 0 };
    const extra = hold
      ? await this.#rereadOlder(incoming, result.older, options, reread)
      : this.#appliedOlder(result.older, "last write wins, Grist not configured");
    return { ...result, events: [...result.events, ...extra], older: result.older.length };
  }

  /**
   * Rows that looked older were held back: Grist is asked for them now and its answer is
   * ingested as the truth. If Grist cannot answer, the webhook's rows are applied after all:
   * an update is never dropped.
   */
  async #rereadOlder(
    incoming: readonly IncomingRow[],
    older: readonly Intervention[],
    options: IngestOptions,
    reread: RereadRows,
  ): Promise<RelayEvent[]> {
    const ids = [...new Map(older.map((record) => [recordKey(record.id), record.id])).values()];
    let rows: Record<string, unknown>[];
    try {
      rows = await reread(ids);
    } catch (error) {
      const keys = new Set(ids.map(recordKey));
      const held = incoming.filter((row) => keys.has(recordKey(row.id)));
      const reason = `Grist re-read failed (${(error as Error).message}): last write wins`;
      const applied = await this.#ingestRows(held, options, "apply");
      this.#appliedOlder(older, reason);
      return applied.events;
    }
    for (const record of older) {
      this.#options.metrics.olderRowReceived("reread");
      this.#options.logger?.warn(
        { rowId: record.id, derniereMaj: record.derniereMaj },
        "webhook row looks older than the stored state (Derniere_MAJ): kept what Grist has now",
      );
    }
    const rereadRows = rows.map(({ id, ...columns }) => ({ id: id as RecordId, columns }));
    // Grist's current rows are the truth: applied whatever their date says.
    return (await this.#ingestRows(rereadRows, { source: options.source }, "apply")).events;
  }

  #appliedOlder(older: readonly Intervention[], reason: string): RelayEvent[] {
    for (const record of older) {
      this.#options.metrics.olderRowReceived("applied");
      this.#options.logger?.warn(
        { rowId: record.id, derniereMaj: record.derniereMaj, reason },
        "webhook row looks older than the stored state (Derniere_MAJ): applied",
      );
    }
    return [];
  }

  async #ingestRows(
    incoming: readonly IncomingRow[],
    options: IngestOptions,
    older: "apply" | "hold",
  ): Promise<Omit<IngestResult, "older"> & { older: Intervention[] }> {
    let rows = incoming;
    const startedAt = performance.now();
    const { mapping } = this.#options;
    const stats: DecisionStats = { unchanged: 0, older: [] };
    const readStartedAt = options.readStartedAt;
    if (readStartedAt !== undefined) {
      // This instance's memory, and the shared history for webhooks taken by other instances.
      const shielded = await keysChangedByWebhookSince(this.#options.store, readStartedAt);
      rows = rows.filter((row) => {
        const key = recordKey(row.id);
        return !shielded.has(key) && !this.#changedByWebhookSince(key, readStartedAt);
      });
    }
    const keys = [...new Set(rows.map((row) => recordKey(row.id)))];
    this.#options.clock?.begin(startedAt);
    const committing = this.#options.store.commit(
      keys,
      (current) => {
        const merged = new Map<string, Record<string, unknown>>();
        const records = rows.map((row) => {
          const key = recordKey(row.id);
          let fields = decodeRow(row.columns, mapping.dateColumns);
          if (options.merge) {
            fields = { ...(merged.get(key) ?? current.get(key)?.fields ?? {}), ...fields };
            merged.set(key, fields);
          }
          return keepGeocodedPosition(normalizeRecord(row.id, fields, mapping), current.get(key));
        });
        return decideEvents(
          records,
          current,
          { source: options.source, hint: options.hint, mapping, older },
          stats,
        );
      },
      this.#commitOptions(),
    );
    this.#options.clock?.end();
    const events = await committing;
    // Stores that notify later (Redis follower) find the start time by event id.
    this.#options.clock?.mark(events, startedAt);
    if (events.length > 0) this.#options.metrics.eventsIngested(events.length, options.source);
    if (options.source === "webhook") this.#noteWebhookChanges(events);
    if (events.length > 0) this.#options.afterCommit?.(events);
    return { received: incoming.length, events, ...stats };
  }

  /** `record.removed` for every known record absent from Grist (which has no delete webhook). */
  async removeMissing(
    presentKeys: ReadonlySet<string>,
    source: EventSource,
    readStartedAt?: number,
  ): Promise<RelayEvent[]> {
    const { records } = await this.#options.store.snapshot();
    const shielded =
      readStartedAt === undefined
        ? new Set<string>()
        : await keysChangedByWebhookSince(this.#options.store, readStartedAt);
    const gone = records.filter((record) => {
      const key = recordKey(record.id);
      // A row a webhook added after the read began was not in the read: it is not deleted.
      if (readStartedAt !== undefined && this.#changedByWebhookSince(key, readStartedAt))
        return false;
      if (shielded.has(key)) return false;
      return !presentKeys.has(key);
    });
    if (gone.length === 0) return [];
    const events = await this.#options.store.commit(
      gone.map((record) => recordKey(record.id)),
      (current) =>
        // Re-checked inside the commit: a webhook may have re-added a row meanwhile.
        gone
          .map((record) => current.get(recordKey(record.id)))
          .filter((record): record is Intervention => record !== undefined)
          .map((record): PendingEvent => ({ type: "record.removed", source, record })),
      this.#commitOptions(),
    );
    if (events.length > 0) this.#options.metrics.eventsIngested(events.length, source);
    return events;
  }

  #noteWebhookChanges(events: readonly RelayEvent[]): void {
    const now = Date.now();
    for (const event of events) {
      const key = recordKey(event.record.id);
      this.#webhookChangedAt.delete(key);
      this.#webhookChangedAt.set(key, now);
    }
    // Oldest first (re-inserted on change): drop what no read can still be older than.
    for (const [key, at] of this.#webhookChangedAt) {
      if (now - at < WEBHOOK_SHIELD_MS && this.#webhookChangedAt.size <= 100_000) break;
      this.#webhookChangedAt.delete(key);
    }
  }

  #changedByWebhookSince(key: string, since: number): boolean {
    return (this.#webhookChangedAt.get(key) ?? Number.NEGATIVE_INFINITY) >= since;
  }

  #commitOptions(): CommitOptions | undefined {
    return this.#options.outbox ? { outbox: this.#options.outbox } : undefined;
  }
}
