/**
 * The columns the widget asks Grist users to map in the creator panel, and the conversion of a
 * mapped row into the dashboard's `Intervention`.
 */
import { normalizeRow } from "../../../src/domain/normalize.ts";
import {
  FIELD_SPECS,
  type FieldSpec,
  MAPPED_FIELDS,
  WIDGET_COLUMN_NAMES,
} from "../../../src/domain/vocabulary.ts";
import type { Intervention } from "../core/types.ts";
import type { ColumnToMap, WidgetColumnMap } from "./grist-types.ts";

/** One column to map per field of the vocabulary, under its widget name and French label. */
export const WIDGET_COLUMNS: ColumnToMap[] = MAPPED_FIELDS.map((field) => {
  const spec: FieldSpec = FIELD_SPECS[field];
  return {
    name: spec.widgetColumn,
    title: spec.label,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.kind === "coordinate" ? { type: "Numeric" } : {}),
    ...(spec.optional ? { optional: true } : {}),
  };
});

/** Required widget columns that have no Grist column mapped. */
export function missingColumns(mappings: WidgetColumnMap | null): string[] {
  return WIDGET_COLUMNS.filter((column) => !column.optional)
    .filter((column) => {
      const mapped = mappings?.[column.name];
      return (
        mapped === undefined || mapped === null || (Array.isArray(mapped) && mapped.length === 0)
      );
    })
    .map((column) => column.title ?? column.name);
}

/**
 * A row already renamed by `grist.mapColumnNames`, through the normaliser the relay uses, so a
 * row looks the same in the widget and on the standalone page. Only the mapped columns reach
 * the widget: `fields` stays empty.
 */
export function interventionFromMappedRow(row: Record<string, unknown>): Intervention | null {
  const id = row.id;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0) return null;
  return normalizeRow(id, row, WIDGET_COLUMN_NAMES, {});
}

export interface WidgetOptions {
  title: string | null;
  defaultTab: string | null;
}

/** Options saved on the Grist section; anything else in there is ignored. */
export function parseWidgetOptions(options: Record<string, unknown> | null): WidgetOptions {
  const title =
    typeof options?.title === "string" && options.title.trim()
      ? options.title.trim().slice(0, 120)
      : null;
  const defaultTab = typeof options?.defaultTab === "string" ? options.defaultTab : null;
  return { title, defaultTab };
}
