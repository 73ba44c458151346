/**
 * Which Grist column feeds each normalized field. Grist renames a column labelled `ID` to `ID2`
 * (grist.md §8), so each field lists candidate column ids; the first present in a row wins.
 */
import { z } from "zod";

const Candidates = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const ColumnMappingFileSchema = z
  .object({
    reference: Candidates,
    agent: Candidates,
    localisation: Candidates,
    type: Candidates,
    statut: Candidates,
    priorite: Candidates,
    derniereMaj: Candidates,
    commentaire: Candidates,
    latitude: Candidates,
    longitude: Candidates,
    /** Columns holding Grist Date/DateTime epoch seconds, decoded to ISO 8601 under `fields`. */
    dateColumns: z.array(z.string().min(1)),
  })
  .partial()
  .strict();

export const MAPPED_FIELDS = [
  "reference",
  "agent",
  "localisation",
  "type",
  "statut",
  "priorite",
  "derniereMaj",
  "commentaire",
  "latitude",
  "longitude",
] as const;
export type MappedField = (typeof MAPPED_FIELDS)[number];

export interface ColumnMapping {
  readonly columns: Readonly<Record<MappedField, readonly string[]>>;
  readonly dateColumns: ReadonlySet<string>;
}

/** Defaults matching the guide's `Interventions` table (and its accent-free variants). */
export const DEFAULT_COLUMNS: Readonly<Record<MappedField, readonly string[]>> = {
  reference: ["ID2", "ID", "Reference", "Ref"],
  agent: ["Agent"],
  localisation: ["Localisation", "Adresse"],
  type: ["Type"],
  statut: ["Statut"],
  priorite: ["Priorite", "Priorité"],
  derniereMaj: ["Derniere_MAJ", "Derniere_maj", "DerniereMaj"],
  commentaire: ["Commentaire"],
  latitude: ["Latitude", "Lat"],
  longitude: ["Longitude", "Lon", "Lng"],
};

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
