/** The "Terminées aujourd'hui" view: which closed interventions it lists. */
import type { Intervention } from "./types.ts";
import { isClosed } from "./vocabulary.ts";

export interface ClosedSplit {
  /** Closed today (by `derniereMaj`, local day), most recent first. */
  today: Intervention[];
  /** Closed before today, or without a date: counted, not listed. */
  older: number;
}

export function closedToday(records: Iterable<Intervention>, nowMs: number): ClosedSplit {
  const day = new Date(nowMs).toDateString();
  const today: { record: Intervention; ms: number }[] = [];
  let older = 0;
  for (const record of records) {
    if (!isClosed(record.statut)) continue;
    const ms = record.derniereMaj ? Date.parse(record.derniereMaj) : Number.NaN;
    if (!Number.isNaN(ms) && new Date(ms).toDateString() === day) today.push({ record, ms });
    else older += 1;
  }
  today.sort((a, b) => b.ms - a.ms);
  return { today: today.map((entry) => entry.record), older };
}
