/**
 * The relay's view of one row of the Grist `Interventions` table: stable field names whatever
 * the real Grist column ids are, plus every decoded raw column under `fields`.
 */
import { z } from "zod";

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

export const InterventionSchema = z.object({
  id: RecordIdSchema,
  reference: z.string().nullable(),
  agent: z.string().nullable(),
  localisation: z.string().nullable(),
  type: z.string().nullable(),
  statut: z.string().nullable(),
  priorite: z.string().nullable(),
  /** ISO 8601, from Grist's epoch-seconds DateTime. */
  derniereMaj: z.string().nullable(),
  commentaire: z.string().nullable(),
  latitude: z.number().nullable(),
  longitude: z.number().nullable(),
  /** Derived from the French postcode found in `localisation`. */
  departement: z.string().nullable(),
  /** Every raw column, decoded, keyed by Grist column id. */
  fields: z.record(z.string(), z.unknown()),
});
export type Intervention = z.infer<typeof InterventionSchema>;

/** The normalized fields that `changes` is computed over, in display order. */
export const TRACKED_FIELDS = [
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
  "departement",
] as const satisfies readonly (keyof Intervention)[];
export type TrackedField = (typeof TRACKED_FIELDS)[number];

/** The key a record is stored under: Grist ids and guide string ids share one namespace. */
export function recordKey(id: RecordId): string {
  return String(id);
}
