/** Aggregations behind the Statistiques tab, independent of Chart.js so they can be tested. */
import type { Intervention, LiveEvent } from "./types.ts";
import { fold } from "./vocabulary.ts";

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
