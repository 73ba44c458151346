/**
 * The list filters and their place in the URL, so a filtered view can be bookmarked on a wall
 * screen. Parameter names match the relay's own `/events` filters.
 */

import { FILTER_FIELDS, type FilterField } from "../../../src/domain/vocabulary.ts";
import type { Intervention } from "./types.ts";
import { fold } from "./vocabulary.ts";

/** The relay's own filter fields (the vocabulary's), so a dashboard URL is a valid stream query. */
export const SELECT_FILTERS = FILTER_FIELDS;
export type SelectFilter = FilterField;

export type Filters = Record<SelectFilter, string> & { q: string };

/** The value a select filter takes to mean "records where this field is empty". */
export const EMPTY_VALUE = "(aucun)";

export const NO_FILTERS: Readonly<Filters> = Object.freeze({
  departement: "",
  type: "",
  statut: "",
  priorite: "",
  agent: "",
  q: "",
});

/** URL values are user-editable: bound their length so a crafted link cannot bloat the page. */
const MAX_FILTER_LENGTH = 200;

export function filtersFromSearch(search: URLSearchParams): Filters {
  const read = (name: string) => (search.get(name) ?? "").slice(0, MAX_FILTER_LENGTH).trim();
  return {
    departement: read("departement"),
    type: read("type"),
    statut: read("statut"),
    priorite: read("priorite"),
    agent: read("agent"),
    q: read("q"),
  };
}

/** Writes the filters into a copy of `search`, dropping empty ones and keeping other params. */
export function filtersToSearch(filters: Filters, search: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams(search);
  for (const name of [...SELECT_FILTERS, "q"] as const) {
    const value = filters[name].trim();
    if (value) next.set(name, value);
    else next.delete(name);
  }
  return next;
}

export function hasActiveFilter(filters: Filters): boolean {
  return [...SELECT_FILTERS, "q"].some((name) => filters[name as keyof Filters] !== "");
}

function matchesSelect(value: string | null, wanted: string): boolean {
  if (!wanted) return true;
  if (wanted === EMPTY_VALUE) return !value;
  return value !== null && fold(value) === fold(wanted);
}

const SEARCHED_FIELDS = [
  "reference",
  "agent",
  "localisation",
  "type",
  "statut",
  "priorite",
  "commentaire",
  "departement",
] as const;

/** Every word of the free text must appear in one of the searched fields (accents ignored). */
function matchesText(record: Intervention, q: string): boolean {
  const words = fold(q).split(" ").filter(Boolean);
  if (words.length === 0) return true;
  const haystack = SEARCHED_FIELDS.map((field) => fold(record[field] ?? "")).join("\n");
  return words.every((word) => haystack.includes(word));
}

export function matchesFilters(record: Intervention, filters: Filters): boolean {
  return (
    SELECT_FILTERS.every((name) => matchesSelect(record[name], filters[name])) &&
    matchesText(record, filters.q)
  );
}

/**
 * The choices offered for one select: the distinct values present (first spelling seen wins),
 * sorted in French order, plus the current selection even when no record has it any more (so
 * a bookmarked filter stays visible and can be cleared).
 */
export function distinctValues(
  records: Iterable<Intervention>,
  field: SelectFilter,
  selected = "",
): { values: string[]; hasEmpty: boolean } {
  const byFolded = new Map<string, string>();
  let hasEmpty = false;
  for (const record of records) {
    const value = record[field];
    if (!value) {
      hasEmpty = true;
      continue;
    }
    const key = fold(value);
    if (!byFolded.has(key)) byFolded.set(key, value.trim());
  }
  if (selected && selected !== EMPTY_VALUE && !byFolded.has(fold(selected))) {
    byFolded.set(fold(selected), selected);
  }
  const values = [...byFolded.values()].sort((a, b) =>
    a.localeCompare(b, "fr", { numeric: true, sensitivity: "base" }),
  );
  return { values, hasEmpty: hasEmpty || selected === EMPTY_VALUE };
}
