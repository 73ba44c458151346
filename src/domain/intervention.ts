/**
 * The relay's view of one row of the Grist `Interventions` table: stable field names whatever
 * the real Grist column ids are, plus every decoded raw column under `fields`.
 */
import { z } from "zod";
import { FIELD_SPECS, MAPPED_FIELDS, type MappedField, POSITION_SOURCES } from "./vocabulary.ts";

/** Grist row ids are positive integers; posts in the guide's shape may use a string id. */
export const RecordIdSchema = z.union([
  z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  z
    .string()
    .min(1)
    .max(128)
    // Ids end up in SSE frames and DOM attributes: refuse control characters outright.
    .regex(/^[^\p{Cc}]+$/u, "must not contain control characters"),
]);
export type RecordId = z.infer<typeof RecordIdSchema>;

const VALUE_SCHEMAS = {
  text: z.string().nullable(),
  /** ISO 8601, from Grist's epoch-seconds DateTime. */
  time: z.string().nullable(),
  coordinate: z.number().nullable(),
} as const;

type MappedShape = {
  [F in MappedField]: (typeof VALUE_SCHEMAS)[(typeof FIELD_SPECS)[F]["kind"]];
};
/** One schema per field of the vocabulary, in its order. */
const mappedShape = Object.fromEntries(
  MAPPED_FIELDS.map((field) => [field, VALUE_SCHEMAS[FIELD_SPECS[field].kind]]),
) as MappedShape;

export const InterventionSchema = z.object({
  id: RecordIdSchema,
  ...mappedShape,
  /** Derived from the French postcode found in `localisation`. */
  departement: z.string().nullable(),
  /** Where latitude/longitude come from; records stored before it existed read as null. */
  positionSource: z.enum(POSITION_SOURCES).nullable().default(null),
  /** The geocoder's score (0–1) when the position comes from the address. */
  positionScore: z.number().min(0).max(1).nullable().default(null),
  /** Every raw column, decoded, keyed by Grist column id. */
  fields: z.record(z.string(), z.unknown()),
});
export type Intervention = z.infer<typeof InterventionSchema>;

/** The normalized fields that `changes` is computed over, in display order. */
export { TRACKED_FIELDS, type TrackedField } from "./vocabulary.ts";

/** The key a record is stored under: Grist ids and guide string ids share one namespace. */
export function recordKey(id: RecordId): string {
  return String(id);
}
