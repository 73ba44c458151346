/**
 * Which records a subscriber may see: the filters it asked for (query string) intersected with
 * the départements its token allows. Evaluated on the server so a scoped token never receives
 * a record, nor a former value of one, outside its scope (src/domain/scope.ts).
 */
import type { RelayEvent } from "../domain/events.ts";
import type { Intervention } from "../domain/intervention.ts";
import {
  eventAsSeen,
  type LeavingEvent,
  visibility as seenAs,
  type Visibility,
} from "../domain/scope.ts";
import { FILTER_FIELDS, type FilterField, fold } from "../domain/vocabulary.ts";

export type { Visibility };
export { FILTER_FIELDS, type FilterField };

/** The one text comparison: "Bloque", " bloqué" and "BLOQUÉ" are one value. */
export const matchKey = fold;

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
    if (typeof record.departement !== "string" || !filter.scope.has(matchKey(record.departement)))
      return false;
  }
  for (const field of FILTER_FIELDS) {
    const allowed = filter.fields[field];
    if (!allowed) continue;
    const value = record[field];
    if (typeof value !== "string" || !allowed.has(matchKey(value))) return false;
  }
  return true;
}

/** How an event reaches a subscriber with this filter (see `Visibility`). */
export function visibility(event: RelayEvent, filter: RecordFilter): Visibility {
  if (isUnfiltered(filter)) return "full";
  return seenAs(event, (record) => recordMatches(record, filter));
}

/** The event as this filter lets it be seen (an addition, an id-only removal), or null. */
export function filterEvent(
  event: RelayEvent,
  filter: RecordFilter,
): RelayEvent | LeavingEvent | null {
  if (isUnfiltered(filter)) return event;
  return eventAsSeen(event, (record) => recordMatches(record, filter));
}
