/**
 * Which records a subscriber may see: the filters it asked for (query string) intersected with
 * the départements its token allows. Evaluated on the server so a scoped token never receives
 * a record outside its scope.
 */
import type { RelayEvent } from "../domain/events.ts";
import { type Intervention, TRACKED_FIELDS } from "../domain/intervention.ts";

export const FILTER_FIELDS = ["departement", "statut", "priorite", "type", "agent"] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

/** Case- and accent-insensitive: "Bloque", "bloqué" and "Bloqué" are one value. */
export function matchKey(value: string): string {
  return value
    .normalize("NFD")
    .replace(/\p{Diacritic}/gu, "")
    .trim()
    .toLowerCase();
}

export interface RecordFilter {
  /** Allowed values per field, as match keys; absent field = no restriction. */
  readonly fields: Partial<Record<FilterField, ReadonlySet<string>>>;
  /** Départements the token allows; null = all. */
  readonly scope: ReadonlySet<string> | null;
}

export const NO_FILTER: RecordFilter = Object.freeze({ fields: {}, scope: null });

export function isUnfiltered(filter: RecordFilter): boolean {
  return filter.scope === null && Object.keys(filter.fields).length === 0;
}

export function buildFilter(
  query: Partial<Record<FilterField, string>>,
  scope: readonly string[] | null,
): RecordFilter {
  const fields: Partial<Record<FilterField, ReadonlySet<string>>> = {};
  for (const field of FILTER_FIELDS) {
    const raw = query[field];
    if (raw === undefined || raw === "") continue;
    fields[field] = new Set(
      raw
        .split(",")
        .map(matchKey)
        .filter((value) => value !== ""),
    );
  }
  // Most streams ask for nothing: they share one frozen filter instead of two objects each.
  if (scope === null && Object.keys(fields).length === 0) return NO_FILTER;
  return { fields, scope: scope === null ? null : new Set(scope.map(matchKey)) };
}

export function recordMatches(record: Intervention, filter: RecordFilter): boolean {
  if (filter.scope !== null) {
    if (record.departement === null || !filter.scope.has(matchKey(record.departement)))
      return false;
  }
  for (const field of FILTER_FIELDS) {
    const allowed = filter.fields[field];
    if (!allowed) continue;
    const value = record[field];
    if (value === null || !allowed.has(matchKey(value))) return false;
  }
  return true;
}

/** The state before an update, rebuilt from `changes` (enough for filtering). */
export function previousRecord(event: RelayEvent): Intervention | null {
  if (event.type !== "record.updated" || !event.changes) return null;
  const previous: Record<string, unknown> = { ...event.record };
  for (const field of TRACKED_FIELDS) {
    const change = event.changes[field];
    if (change) previous[field] = change.from;
  }
  return previous as Intervention;
}

export type Visibility = "full" | "leaves" | "hidden";

/**
 * "full": send the event. "leaves": the record was visible and no longer is — tell the client
 * to drop it without revealing its new content. "hidden": nothing to send.
 */
export function visibility(event: RelayEvent, filter: RecordFilter): Visibility {
  if (recordMatches(event.record, filter)) return "full";
  const previous = previousRecord(event);
  return previous && recordMatches(previous, filter) ? "leaves" : "hidden";
}
