/**
 * What changed between two states of a record — the "what changed" Grist never sends — and
 * the decision, for a batch of incoming rows, of which events to store.
 */
import { type ColumnMapping, mappedColumnIds } from "./column-mapping.ts";
import type { EventSource, FieldChange, PendingEvent } from "./events.ts";
import { type Intervention, recordKey, TRACKED_FIELDS } from "./intervention.ts";

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Changed normalized fields, then changed raw columns the mapping does not use (as
 * `fields.<colId>`), so an edit of any column is visible.
 */
export function computeChanges(
  before: Intervention,
  after: Intervention,
  mapping: ColumnMapping,
): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {};
  for (const field of TRACKED_FIELDS) {
    if (!sameValue(before[field], after[field])) {
      changes[field] = { from: before[field], to: after[field] };
    }
  }
  const mapped = mappedColumnIds(mapping);
  const columns = new Set([...Object.keys(before.fields), ...Object.keys(after.fields)]);
  for (const colId of columns) {
    if (mapped.has(colId)) continue;
    const from = before.fields[colId] ?? null;
    const to = after.fields[colId] ?? null;
    if (!sameValue(from, to)) changes[`fields.${colId}`] = { from, to };
  }
  return changes;
}

/**
 * Grist may deliver an old batch after a newer one (a failed batch is re-queued at the end,
 * grist.md §1.5), but a person may also set `Derniere_MAJ` to an earlier date on purpose
 * (grist.md §9). So an incoming row whose update time is earlier than the stored one only
 * *looks* older: it is a hint to check, never a reason to drop the row.
 */
export function looksOlder(current: Intervention, incoming: Intervention): boolean {
  if (!current.derniereMaj || !incoming.derniereMaj) return false;
  return Date.parse(incoming.derniereMaj) < Date.parse(current.derniereMaj);
}

export interface DecideOptions {
  source: EventSource;
  /** Which Grist webhook sent the batch, when its URL says so. */
  hint?: "add" | "update";
  mapping: ColumnMapping;
  /**
   * What to do with a webhook row that looks older than the stored one: `apply` it (last write
   * wins, the default) or `hold` it back because the caller re-reads that row from Grist and
   * keeps what Grist says now. Either way it is listed in `DecisionStats.older`.
   */
  older?: "apply" | "hold";
}

export interface DecisionStats {
  unchanged: number;
  /** Rows that looked older than the stored state (`looksOlder`). */
  older: Intervention[];
}

/** Events for a batch, applied in order over a working copy of the current state. */
export function decideEvents(
  incoming: readonly Intervention[],
  current: ReadonlyMap<string, Intervention>,
  options: DecideOptions,
  stats: DecisionStats = { unchanged: 0, older: [] },
): PendingEvent[] {
  const working = new Map(current);
  const events: PendingEvent[] = [];
  for (const record of incoming) {
    const key = recordKey(record.id);
    const previous = working.get(key);
    if (!previous) {
      // The update webhook for a row the relay never saw (it started after the row was
      // created): keep Grist's word, with no changes since the previous state is unknown.
      events.push(
        options.hint === "update"
          ? { type: "record.updated", source: options.source, record, changes: {} }
          : { type: "record.added", source: options.source, record },
      );
      working.set(key, record);
      continue;
    }
    if (options.source === "webhook" && looksOlder(previous, record)) {
      stats.older.push(record);
      if (options.older === "hold") continue;
    }
    const changes = computeChanges(previous, record, options.mapping);
    if (Object.keys(changes).length === 0) {
      stats.unchanged++;
      continue;
    }
    events.push({ type: "record.updated", source: options.source, record, changes });
    working.set(key, record);
  }
  return events;
}
