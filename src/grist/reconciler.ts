/**
 * Initial sync and periodic reconciliation with Grist's REST API. Grist has no delete webhook
 * and loses queued webhooks when a document closes or the server restarts without Redis
 * (grist.md §1.4, §1.5), so the relay re-reads the whole table: rows whose content differs
 * become updates, rows gone from Grist become removals. The sink decides what changed, so an
 * unchanged row never produces an event.
 */
import type { ColumnMapping } from "../domain/column-mapping.ts";
import type { Log } from "../log/log.ts";
import type { Lease } from "../store/lease.ts";
import type { GristClient } from "./rest-client.ts";

export type ReconcileSource = "sync" | "reconciliation";

/** Implemented by the ingest service. */
export interface RowSink {
  /** Ingests flat Grist rows ({id, ColId: rawValue…}); returns the events it stored. */
  ingest(
    rows: Record<string, unknown>[],
    options: {
      source: ReconcileSource | "webhook";
      hint?: "add" | "update";
      /**
       * Epoch ms when the Grist read began. A row changed by a webhook after this moment is
       * newer than what was read: the sink may keep the webhook's state.
       */
      readStartedAt?: number;
    },
  ): Promise<{ received: number; events: unknown[] }>;
  /** Emits record.removed for every known record whose key is not in `presentKeys`. */
  removeMissing(
    presentKeys: ReadonlySet<string>,
    source: ReconcileSource,
    /** As above: a record first seen after this moment was not in the read, not deleted. */
    readStartedAt?: number,
  ): Promise<unknown[]>;
}

/** Holds the deployment-wide right to reconcile (Redis lease, issue 4/6). */
export type { Lease };

export interface ReconcileResult {
  /** ISO time the run ended. */
  at: string;
  source: ReconcileSource;
  ok: boolean;
  added: number;
  updated: number;
  removed: number;
  /** French, for `/api/status`; null when ok. */
  error: string | null;
}

export type ReconcilerLogger = Log;

export interface ReconcilerOptions {
  client: Pick<GristClient, "fetchRecords" | "docId">;
  table: string;
  /** Used to warn when rows no longer carry the reference column (renamed in Grist). */
  mapping?: ColumnMapping;
  sink: RowSink;
  /** Period between the end of a run and the start of the next, in ms. 0 disables the timer. */
  intervalMs: number;
  logger: ReconcilerLogger;
  onResult?: (result: ReconcileResult) => void;
  lease?: Lease;
  /** Rows per `ingest` call, to bound each store commit. Defaults to 500. */
  batchSize?: number;
}

/** `{id, fields}` from REST becomes the flat row a webhook would carry (same raw encoding). */
export function flattenRecord(record: {
  id: number;
  fields: Record<string, unknown>;
}): Record<string, unknown> {
  return { ...record.fields, id: record.id };
}

export class Reconciler {
  readonly #options: ReconcilerOptions;
  readonly #batchSize: number;
  #synced = false;
  #running: Promise<ReconcileResult | undefined> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stopped = true;
  #warnedAboutReference = false;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
    this.#batchSize = Math.max(1, options.batchSize ?? 500);
  }

  /** Runs the initial sync now, then reconciles every `intervalMs`. Resolves after the sync. */
  async start(): Promise<ReconcileResult | undefined> {
    this.#stopped = false;
    const result = await this.runOnce();
    this.#schedule();
    return result;
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /**
   * One run. A call during a run gets that run's result instead of starting another, so runs
   * never overlap. Undefined when another instance holds the lease.
   */
  runOnce(): Promise<ReconcileResult | undefined> {
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  #schedule(): void {
    if (this.#stopped || this.#options.intervalMs <= 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.runOnce().finally(() => this.#schedule());
    }, this.#options.intervalMs);
    // The relay's server keeps the process alive; this timer alone must not.
    this.#timer.unref();
  }

  async #run(): Promise<ReconcileResult | undefined> {
    const { lease, logger } = this.#options;
    const source: ReconcileSource = this.#synced ? "reconciliation" : "sync";
    let result: ReconcileResult | undefined;
    try {
      result = lease
        ? await lease.runExclusive((signal) => this.#reconcile(source, signal))
        : await this.#reconcile(source, new AbortController().signal);
    } catch (error) {
      // The lease itself failed (Redis unreachable): report it, the timer keeps going.
      logger.warn({ source, err: error }, "reconciliation lease unavailable");
      const message = error instanceof Error ? error.message : String(error);
      result = {
        at: new Date().toISOString(),
        source,
        ok: false,
        added: 0,
        updated: 0,
        removed: 0,
        error: `bail indisponible : ${message}`,
      };
    }
    if (!result) {
      logger.debug({ source }, "reconciliation skipped: another instance holds the lease");
      return undefined;
    }
    if (result.ok) this.#synced = true;
    this.#options.onResult?.(result);
    return result;
  }

  async #reconcile(source: ReconcileSource, signal: AbortSignal): Promise<ReconcileResult> {
    const { client, table, sink, logger } = this.#options;
    const counts = { added: 0, updated: 0, removed: 0 };
    const finish = (error: string | null): ReconcileResult => ({
      at: new Date().toISOString(),
      source,
      ok: error === null,
      ...counts,
      error,
    });
    const readStartedAt = Date.now();
    try {
      const rows = (await client.fetchRecords(table)).map(flattenRecord);
      this.#checkReference(rows);
      for (let start = 0; start < rows.length; start += this.#batchSize) {
        if (signal.aborted) return finish("interrompue : bail de réconciliation perdu");
        const { events } = await sink.ingest(rows.slice(start, start + this.#batchSize), {
          source,
          readStartedAt,
        });
        for (const event of events) {
          const type = (event as { type?: unknown } | null)?.type;
          if (type === "record.added") counts.added++;
          else if (type === "record.updated") counts.updated++;
        }
      }
      // Removals only after a complete read: a partial one would remove rows that still exist.
      if (signal.aborted) return finish("interrompue : bail de réconciliation perdu");
      const present = new Set(rows.map((row) => String(row.id)));
      counts.removed = (await sink.removeMissing(present, source, readStartedAt)).length;
      const result = finish(null);
      logger.info({ source, rows: rows.length, ...counts }, `${source} with Grist done`);
      return result;
    } catch (error) {
      // GristApiError messages name document and table and never carry the key.
      const message = error instanceof Error ? error.message : String(error);
      logger.warn(
        { source, docId: client.docId, table, err: error },
        `${source} with Grist failed`,
      );
      return finish(message);
    }
  }

  #checkReference(rows: readonly Record<string, unknown>[]): void {
    const candidates = this.#options.mapping?.columns.reference;
    if (!candidates || rows.length === 0 || this.#warnedAboutReference) return;
    if (rows.some((row) => candidates.some((colId) => colId in row))) return;
    this.#warnedAboutReference = true;
    this.#options.logger.warn(
      { table: this.#options.table, candidates, columns: Object.keys(rows[0] ?? {}) },
      "no reference column in Grist rows: rerun `grist-realtime setup` to refresh the column mapping",
    );
  }
}
