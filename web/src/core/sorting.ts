/** Order of the active list: what needs a supervisor first. */
import type { Intervention } from "./types.ts";
import { isClosed, priorityRank } from "./vocabulary.ts";

function updatedAtMs(record: Intervention): number {
  const ms = record.derniereMaj ? Date.parse(record.derniereMaj) : Number.NaN;
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** Priority (Urgente → Basse → unknown), then most recent update, then reference for stability. */
export function compareForList(a: Intervention, b: Intervention): number {
  return (
    priorityRank(a.priorite) - priorityRank(b.priorite) ||
    updatedAtMs(b) - updatedAtMs(a) ||
    (a.reference ?? "").localeCompare(b.reference ?? "", "fr", { numeric: true }) ||
    String(a.id).localeCompare(String(b.id), "fr", { numeric: true })
  );
}

export function activeSorted(records: Iterable<Intervention>): Intervention[] {
  const active: Intervention[] = [];
  for (const record of records) if (!isClosed(record.statut)) active.push(record);
  return active.sort(compareForList);
}
