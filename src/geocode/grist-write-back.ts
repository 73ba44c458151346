/**
 * GEOCODE_WRITE_BACK: the relay writes a geocoded position into the document's Latitude and
 * Longitude cells, so Grist users see it too. Only cells that are empty at the moment of
 * writing are filled: the row is read again just before, and coordinates a person typed are
 * never overwritten. Requests go through the REST client (its parallelism cap and retries).
 */
import type { ColumnMapping } from "../domain/column-mapping.ts";
import type { RelayEvent } from "../domain/events.ts";
import type { GristClient, GristRecord } from "../grist/rest-client.ts";
import type { Log } from "../log/log.ts";
import type { PositionWriter } from "./geocoding-service.ts";

/** Rows read and written per request. */
const BATCH = 100;

function isEmptyCell(value: unknown): boolean {
  // Grist stores an empty Numeric cell as 0 (see asPosition), text cells as "" or null.
  return value === null || value === undefined || value === "" || value === 0;
}

export interface GristPositionWriterOptions {
  client: Pick<GristClient, "fetchRecords" | "updateRecords">;
  table: string;
  mapping: ColumnMapping;
  logger: Log;
}

export class GristPositionWriter implements PositionWriter {
  readonly #options: GristPositionWriterOptions;
  #warnedMissing = false;

  constructor(options: GristPositionWriterOptions) {
    this.#options = options;
  }

  async write(events: readonly RelayEvent[]): Promise<void> {
    // Rows posted in the guide's shape may carry text ids: those are not Grist rows.
    const placed = events.filter(
      (event) => typeof event.record.id === "number" && event.record.positionSource === "adresse",
    );
    for (let i = 0; i < placed.length; i += BATCH) {
      try {
        await this.#writeBatch(placed.slice(i, i + BATCH));
      } catch (error) {
        this.#options.logger.warn({ err: error }, "writing geocoded positions to Grist failed");
      }
    }
  }

  async #writeBatch(events: readonly RelayEvent[]): Promise<void> {
    const { client, table, mapping } = this.#options;
    const rows = await client.fetchRecords(table, {
      filter: { id: events.map((event) => event.record.id) },
    });
    const byId = new Map(rows.map((row) => [row.id, row.fields]));
    const updates: GristRecord[] = [];
    for (const event of events) {
      const fields = byId.get(event.record.id as number);
      if (!fields) continue;
      const latColumn = mapping.columns.latitude.find((column) => Object.hasOwn(fields, column));
      const lonColumn = mapping.columns.longitude.find((column) => Object.hasOwn(fields, column));
      if (!latColumn || !lonColumn) {
        this.#warnMissing();
        continue;
      }
      if (!isEmptyCell(fields[latColumn]) || !isEmptyCell(fields[lonColumn])) continue;
      updates.push({
        id: event.record.id as number,
        fields: { [latColumn]: event.record.latitude, [lonColumn]: event.record.longitude },
      });
    }
    if (updates.length > 0) await client.updateRecords(table, updates);
  }

  #warnMissing(): void {
    if (this.#warnedMissing) return;
    this.#warnedMissing = true;
    this.#options.logger.warn(
      {},
      "GEOCODE_WRITE_BACK: the table has no Latitude/Longitude columns; create them (setup --coordonnees)",
    );
  }
}
