/**
 * Which Grist column feeds each normalized field: the vocabulary's candidates, which an
 * operator's mapping file (written by `setup`) may override field by field.
 */
import { z } from "zod";
import { byField, GRIST_COLUMNS, MAPPED_FIELDS, type MappedField } from "./vocabulary.ts";

const Candidates = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const candidatesShape = byField(() => Candidates);

export const ColumnMappingFileSchema = z
  .object({
    ...candidatesShape,
    /** Columns holding Grist Date/DateTime epoch seconds, decoded to ISO 8601 under `fields`. */
    dateColumns: z.array(z.string().min(1)),
  })
  .partial()
  .strict();

export { MAPPED_FIELDS, type MappedField } from "./vocabulary.ts";

export interface ColumnMapping {
  readonly columns: Readonly<Record<MappedField, readonly string[]>>;
  readonly dateColumns: ReadonlySet<string>;
}

/** Defaults matching the guide's `Interventions` table: the vocabulary's candidates. */
export const DEFAULT_COLUMNS: Readonly<Record<MappedField, readonly string[]>> = GRIST_COLUMNS;

export function buildColumnMapping(
  overrides: z.infer<typeof ColumnMappingFileSchema> = {},
): ColumnMapping {
  const columns = { ...DEFAULT_COLUMNS };
  for (const field of MAPPED_FIELDS) {
    const value = overrides[field];
    if (value !== undefined) columns[field] = typeof value === "string" ? [value] : value;
  }
  const dateColumns = new Set(overrides.dateColumns ?? []);
  // The mapped update-time column is a DateTime by definition.
  for (const colId of columns.derniereMaj) dateColumns.add(colId);
  return Object.freeze({ columns: Object.freeze(columns), dateColumns });
}

/** The column ids used by the mapping, so other columns can be reported under `fields.*`. */
export function mappedColumnIds(mapping: ColumnMapping): Set<string> {
  return new Set(MAPPED_FIELDS.flatMap((field) => mapping.columns[field]));
}
