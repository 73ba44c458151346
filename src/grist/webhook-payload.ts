/**
 * Wire contracts of the webhook endpoints: Grist's real body (an array of flat rows) and, on
 * the guide's URL only, the guide's `{id, fields}` shape.
 */
import { z } from "zod";
import { RecordIdSchema } from "../domain/intervention.ts";

/** Grist sends batches of at most 100 rows; accept some slack for n8n forwarders that merge. */
export const MAX_ROWS_PER_BATCH = 1000;

/** Column ids are Python identifiers in Grist; this bound keeps hostile keys out of storage. */
const ColumnId = z.string().min(1).max(256);

/** One row as Grist posts it: `id`, `manualSort`, then every column by column id. */
export const GristFlatRowSchema = z
  .record(ColumnId, z.unknown())
  .and(z.object({ id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }));
export type GristFlatRow = z.infer<typeof GristFlatRowSchema>;

export const GristWebhookBodySchema = z.array(GristFlatRowSchema).max(MAX_ROWS_PER_BATCH);

/** The guide's (wrong, but documented) shape: `{id, fields: {...}}`. */
export const GuideRecordSchema = z.object({
  id: RecordIdSchema,
  fields: z.record(ColumnId, z.unknown()),
});

const GuideRecordOrFlatRow = z.union([GuideRecordSchema, GristFlatRowSchema]);

export const GuideWebhookBodySchema = z.union([
  GuideRecordSchema,
  z.array(GuideRecordOrFlatRow).max(MAX_ROWS_PER_BATCH),
]);

/** A row keyed by column id, with the record id beside the columns. */
export interface IncomingRow {
  id: string | number;
  columns: Record<string, unknown>;
}

export function rowFromFlat(row: Record<string, unknown> & { id: string | number }): IncomingRow {
  const { id, ...columns } = row;
  return { id, columns };
}

/** Normalizes whatever the guide's endpoint received into rows. */
export function rowsFromGuideBody(body: z.infer<typeof GuideWebhookBodySchema>): IncomingRow[] {
  const items = Array.isArray(body) ? body : [body];
  return items.map((item) =>
    "fields" in item &&
    typeof item.fields === "object" &&
    item.fields !== null &&
    !Array.isArray(item.fields) &&
    Object.keys(item).every((k) => k === "id" || k === "fields")
      ? { id: item.id, columns: item.fields as Record<string, unknown> }
      : rowFromFlat(item as GristFlatRow),
  );
}
