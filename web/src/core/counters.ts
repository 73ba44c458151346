/** The header counters over the records given: the dashboard passes the filtered ones. */
import type { Intervention } from "./types.ts";
import { isClosed, priorityKind, statusKind } from "./vocabulary.ts";

export interface Counters {
  total: number;
  enCours: number;
  enAttente: number;
  bloque: number;
  termine: number;
  /** Urgent and still open: a closed urgent intervention needs nobody any more. */
  urgentes: number;
}

export function computeCounters(records: Iterable<Intervention>): Counters {
  const counters: Counters = {
    total: 0,
    enCours: 0,
    enAttente: 0,
    bloque: 0,
    termine: 0,
    urgentes: 0,
  };
  for (const record of records) {
    counters.total += 1;
    const kind = statusKind(record.statut);
    if (kind === "en-cours") counters.enCours += 1;
    else if (kind === "en-attente") counters.enAttente += 1;
    else if (kind === "bloque") counters.bloque += 1;
    else if (kind === "termine") counters.termine += 1;
    if (priorityKind(record.priorite) === "urgente" && !isClosed(record.statut))
      counters.urgentes += 1;
  }
  return counters;
}
