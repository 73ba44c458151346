/** Aggregations behind the Statistiques tab, independent of Chart.js so they can be tested. */
import type { Intervention, LiveEvent } from "./types.ts";
import { fold, STATUS_KINDS, type StatusKind, statusKind } from "./vocabulary.ts";

export interface Tally {
  label: string;
  count: number;
}

/**
 * Counts records per value of `pick` (spellings differing only by case or accents are merged
 * under the first one seen); empty values go under `emptyLabel`. Largest first.
 */
export function tallyBy(
  records: Iterable<Intervention>,
  pick: (record: Intervention) => string | null,
  emptyLabel = "Non renseigné",
): Tally[] {
  const byKey = new Map<string, Tally>();
  for (const record of records) {
    const raw = pick(record)?.trim();
    const key = raw ? fold(raw) : "\u0000empty";
    const tally = byKey.get(key) ?? { label: raw || emptyLabel, count: 0 };
    tally.count += 1;
    byKey.set(key, tally);
  }
  return [...byKey.values()].sort(
    (a, b) => b.count - a.count || a.label.localeCompare(b.label, "fr", { numeric: true }),
  );
}

/** The label a status kind has when no record spells it. */
const STATUS_LABELS: Readonly<Record<StatusKind, string>> = {
  "en-cours": "En cours",
  "en-attente": "En attente",
  bloque: "Bloqué",
  termine: "Terminé",
  annule: "Annulé",
  autre: "Autre",
};

/** The working statuses: always shown, even at zero, so the bars keep their places. */
const ALWAYS_SHOWN: readonly StatusKind[] = ["en-cours", "en-attente", "bloque", "termine"];

export interface StatusTally extends Tally {
  /** For the bar's colour, the same as the counter's. */
  kind: StatusKind;
}

/**
 * Counts per statut in the counters' order (En cours, En attente, Bloqué, Terminé, Annulé), so a
 * live update changes a bar's length, never its place; statuses outside the vocabulary follow,
 * by label, then "Sans statut".
 */
export function tallyByStatus(records: Iterable<Intervention>): StatusTally[] {
  const known = new Map<StatusKind, StatusTally>();
  const others: Intervention[] = [];
  for (const record of records) {
    const kind = statusKind(record.statut);
    if (kind === "autre") {
      others.push(record);
      continue;
    }
    const tally = known.get(kind) ?? { kind, label: record.statut?.trim() ?? "", count: 0 };
    tally.count += 1;
    known.set(kind, tally);
  }
  const ordered = STATUS_KINDS.flatMap((kind): StatusTally[] => {
    const tally = known.get(kind);
    if (tally) return [tally];
    return ALWAYS_SHOWN.includes(kind) ? [{ kind, label: STATUS_LABELS[kind], count: 0 }] : [];
  });
  const rest = sortedByLabel(
    tallyBy(others, (r) => r.statut, "Sans statut"),
    "Sans statut",
  );
  return [...ordered, ...rest.map((tally) => ({ ...tally, kind: "autre" as const }))];
}

/**
 * Tallies in label order (numbers in numeric order: "2A", "13", "69"), the empty label last:
 * bars that do not re-sort themselves while someone reads them.
 */
export function sortedByLabel(tallies: readonly Tally[], emptyLabel: string): Tally[] {
  return [...tallies].sort((a, b) => {
    if (a.label === emptyLabel) return 1;
    if (b.label === emptyLabel) return -1;
    return a.label.localeCompare(b.label, "fr", { numeric: true, sensitivity: "base" });
  });
}

const HOUR_MS = 3_600_000;

export interface HourlySeries {
  /** Start of each hour bucket (ms), oldest first; the last one holds the current hour. */
  hourStarts: number[];
  counts: number[];
}

/** Events per hour over the `hours` hours ending with the current one (local hours). */
export function eventsPerHour(
  events: Iterable<LiveEvent>,
  nowMs: number,
  hours = 24,
): HourlySeries {
  const current = new Date(nowMs);
  current.setMinutes(0, 0, 0);
  const lastStart = current.getTime();
  const firstStart = lastStart - (hours - 1) * HOUR_MS;
  const hourStarts = Array.from({ length: hours }, (_, i) => firstStart + i * HOUR_MS);
  const counts: number[] = new Array(hours).fill(0);
  for (const event of events) {
    const ms = Date.parse(event.time);
    if (Number.isNaN(ms) || ms < firstStart || ms >= lastStart + HOUR_MS) continue;
    const index = Math.floor((ms - firstStart) / HOUR_MS);
    counts[index] = (counts[index] ?? 0) + 1;
  }
  return { hourStarts, counts };
}
