/** Turns a decoded Grist row into the relay's `Intervention`. */
import { isCellError } from "../grist/decode.ts";
import type { ColumnMapping, MappedField } from "./column-mapping.ts";
import { departementFromAddress } from "./departement.ts";
import type { Intervention, RecordId } from "./intervention.ts";

/** Longest text kept per normalized field; the raw value stays whole under `fields`. */
const MAX_TEXT_LENGTH = 10_000;

function pick(fields: Record<string, unknown>, candidates: readonly string[]): unknown {
  for (const colId of candidates) if (colId in fields) return fields[colId];
  return undefined;
}

/** Text fields: Grist writes empty text as `null` or `""` depending on the writer; both → null. */
export function asText(value: unknown): string | null {
  if (value === null || value === undefined || isCellError(value)) return null;
  if (typeof value === "string") return value === "" ? null : value.slice(0, MAX_TEXT_LENGTH);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.length === 0 ? null : value.map(String).join(", ");
  return null;
}

function asIsoTime(value: unknown): string | null {
  if (typeof value === "string") {
    const time = Date.parse(value);
    return Number.isNaN(time) ? null : new Date(time).toISOString();
  }
  if (typeof value === "number" && Number.isFinite(value) && Math.abs(value) < 8.64e12) {
    return new Date(value * 1000).toISOString();
  }
  return null;
}

function asCoordinate(value: unknown, limit: number): number | null {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || Math.abs(n) > limit) return null;
  return n;
}

export function normalizeRecord(
  id: RecordId,
  fields: Record<string, unknown>,
  mapping: ColumnMapping,
): Intervention {
  const get = (field: MappedField) => pick(fields, mapping.columns[field]);
  const localisation = asText(get("localisation"));
  return {
    id,
    reference: asText(get("reference")),
    agent: asText(get("agent")),
    localisation,
    type: asText(get("type")),
    statut: asText(get("statut")),
    priorite: asText(get("priorite")),
    derniereMaj: asIsoTime(get("derniereMaj")),
    commentaire: asText(get("commentaire")),
    latitude: asCoordinate(get("latitude"), 90),
    longitude: asCoordinate(get("longitude"), 180),
    departement: departementFromAddress(localisation),
    fields,
  };
}
