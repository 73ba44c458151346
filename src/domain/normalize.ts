/**
 * The one normaliser from a Grist row to an intervention, for every path a row takes: webhook
 * and REST rows (cells decoded by the Grist adapter) on the relay, and the widget's `onRecords`
 * rows (decoded by Grist's plugin API: `Date` objects, plain arrays, error objects) in the
 * browser. Browser-safe: no `node:` import, no zod.
 */
import type { ColumnMapping } from "./column-mapping.ts";
import { departementFromAddress } from "./departement.ts";
import { DEPARTEMENT_POINTS } from "./departement-points.ts";
import type { Intervention, RecordId } from "./intervention.ts";
import {
  FIELD_SPECS,
  type FieldKind,
  type InterventionValues,
  MAPPED_FIELDS,
  type MappedField,
} from "./vocabulary.ts";

/** Longest text kept per normalized field; the raw value stays whole under `fields`. */
export const MAX_TEXT_LENGTH = 10_000;
const MAX_DEPTH = 4;

/** Grist column ids tried, in order, for each field. */
export type FieldColumns = Readonly<Record<MappedField, readonly string[]>>;

/**
 * Text fields. Grist writes empty text as `null` or `""` depending on the writer, and a blank
 * cell shows nothing: empty or blank → null. Lists (ChoiceList) join with ", ". Objects —
 * a cell in error, an unknown encoding — give null rather than "[object Object]".
 */
export function asText(value: unknown, depth = 0): string | null {
  if (typeof value === "string")
    return value.trim() === "" ? null : value.slice(0, MAX_TEXT_LENGTH);
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : null;
  if (typeof value === "boolean") return String(value);
  if (value instanceof Date) return isoOf(value);
  if (Array.isArray(value) && depth < MAX_DEPTH) {
    const items = value.map((item) => asText(item, depth + 1)).filter((item) => item !== null);
    return items.length === 0 ? null : items.join(", ").slice(0, MAX_TEXT_LENGTH);
  }
  return null;
}

function isoOf(date: Date): string | null {
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Grist DateTime: epoch seconds (raw), an ISO string (decoded by the adapter) or a `Date`. */
export function asIsoTime(value: unknown): string | null {
  if (value instanceof Date) return isoOf(value);
  if (typeof value === "string" && value.trim() !== "") return isoOf(new Date(Date.parse(value)));
  // Beyond ±8.64e12 s a Date is invalid: refuse rather than throw.
  if (typeof value === "number" && Number.isFinite(value) && Math.abs(value) < 8.64e12) {
    return isoOf(new Date(value * 1000));
  }
  return null;
}

/** A number, or a text as people type it in France ("43,29"); anything else → null. */
export function asNumber(value: unknown): number | null {
  const n =
    typeof value === "string" && value.trim() !== ""
      ? Number(value.trim().replace(",", "."))
      : value;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/**
 * A position is both coordinates or none: out of range, or (0, 0) — what Grist stores in an
 * empty Numeric cell, and a point in the Gulf of Guinea no intervention is at — means none.
 */
export function asPosition(
  latitude: unknown,
  longitude: unknown,
): { latitude: number | null; longitude: number | null } {
  const lat = asNumber(latitude);
  const lon = asNumber(longitude);
  if (lat === null || lon === null || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
    return { latitude: null, longitude: null };
  }
  if (lat === 0 && lon === 0) return { latitude: null, longitude: null };
  return { latitude: lat, longitude: lon };
}

function pick(row: Readonly<Record<string, unknown>>, candidates: readonly string[]): unknown {
  for (const colId of candidates) if (Object.hasOwn(row, colId)) return row[colId];
  return undefined;
}

/**
 * A row → an intervention. `columns` says which keys of `row` feed each field (the relay's
 * column mapping, or the widget's mapped names); `fields` is what is kept raw under `fields`.
 */
export function normalizeRow(
  id: RecordId,
  row: Readonly<Record<string, unknown>>,
  columns: FieldColumns,
  fields: Record<string, unknown> = { ...row },
): Intervention {
  const position = asPosition(pick(row, columns.latitude), pick(row, columns.longitude));
  const values: Record<string, unknown> = {};
  for (const field of MAPPED_FIELDS) {
    const kind: FieldKind = FIELD_SPECS[field].kind;
    const raw = pick(row, columns[field]);
    if (kind === "text") values[field] = asText(raw);
    else if (kind === "time") values[field] = asIsoTime(raw);
    else values[field] = position[field as keyof typeof position];
  }
  const mapped = values as Omit<
    InterventionValues,
    "departement" | "positionSource" | "positionScore"
  >;
  const departement = departementFromAddress(mapped.localisation);
  return { id, ...mapped, departement, ...placement(mapped, departement), fields };
}

/**
 * Typed coordinates win; without them a row with a known département stands at that
 * département's reference point, flagged approximate, until its address is geocoded (the relay
 * replaces the position then, see src/geocode/).
 */
function placement(
  position: { latitude: number | null; longitude: number | null },
  departement: string | null,
): Pick<InterventionValues, "latitude" | "longitude" | "positionSource" | "positionScore"> {
  if (position.latitude !== null && position.longitude !== null) {
    return { ...position, positionSource: "grist", positionScore: null };
  }
  const point = departement ? DEPARTEMENT_POINTS[departement] : undefined;
  if (point) {
    return {
      latitude: point.lat,
      longitude: point.lon,
      positionSource: "departement",
      positionScore: null,
    };
  }
  return { latitude: null, longitude: null, positionSource: null, positionScore: null };
}

/** A row decoded by the Grist adapter (webhook, REST), read through the column mapping. */
export function normalizeRecord(
  id: RecordId,
  fields: Record<string, unknown>,
  mapping: ColumnMapping,
): Intervention {
  return normalizeRow(id, fields, mapping.columns, fields);
}
