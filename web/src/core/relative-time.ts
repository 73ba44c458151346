/** "il y a 2 min", "hier", "à l'instant": the age of an update, in French. */

const formatter = new Intl.RelativeTimeFormat("fr", { numeric: "auto", style: "short" });

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * `nowMs - thenMs` as a French relative time. Future times (a client clock behind the relay's)
 * read as "à l'instant" rather than "dans 3 s".
 */
export function formatAge(thenMs: number, nowMs: number): string {
  const age = Math.max(0, nowMs - thenMs);
  if (age < 45_000) return "à l'instant";
  if (age < 45 * MINUTE) return formatter.format(-Math.max(1, Math.round(age / MINUTE)), "minute");
  if (age < 22 * HOUR) return formatter.format(-Math.round(age / HOUR), "hour");
  if (age < 26 * DAY) return formatter.format(-Math.round(age / DAY), "day");
  if (age < 320 * DAY) return formatter.format(-Math.round(age / (30 * DAY)), "month");
  return formatter.format(-Math.round(age / (365 * DAY)), "year");
}

/** Same, from an ISO string; null or unparsable dates give null so callers can show nothing. */
export function formatAgeIso(iso: string | null, nowMs: number): string | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : formatAge(ms, nowMs);
}

const clock = new Intl.DateTimeFormat("fr-FR", { hour: "2-digit", minute: "2-digit" });
const clockSeconds = new Intl.DateTimeFormat("fr-FR", {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const dateTime = new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeStyle: "medium" });

/** "14:02" */
export function formatClock(ms: number): string {
  return clock.format(ms);
}
/** "14:02:31" */
export function formatClockSeconds(ms: number): string {
  return clockSeconds.format(ms);
}
/** "24/11/2026 14:02:31", for tooltips. */
export function formatDateTime(ms: number): string {
  return dateTime.format(ms);
}
