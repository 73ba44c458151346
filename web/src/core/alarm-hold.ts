/**
 * How long an unacknowledged alarm stays on screen: 2 minutes unless the page's address says
 * otherwise (`?duree_alerte=<secondes>`, 0 = until someone clicks "Vu").
 */

const DEFAULT_SECONDS = 120;
/** A day: past that, an alarm nobody saw is better found in the chronology. */
const MAX_SECONDS = 24 * 3_600;

export function alarmHoldMs(search: URLSearchParams): number {
  const raw = search.get("duree_alerte")?.trim() ?? "";
  const seconds = raw === "" ? Number.NaN : Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) return DEFAULT_SECONDS * 1_000;
  return Math.round(Math.min(seconds, MAX_SECONDS) * 1_000);
}
