/**
 * The one `Retry-After` reader of the server. The header is either delay-seconds or an
 * HTTP-date (RFC 9110 §10.2.3); both mean "not before then".
 */

/** Longest delay read from a header: a year; beyond that the value is nonsense. */
const MAX_SECONDS = 365 * 24 * 3600;

/** Milliseconds to wait, or null when the header is absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | null {
  if (header === null || header === undefined) return null;
  const value = header.trim();
  if (/^\d{1,10}$/.test(value)) return Math.min(Number(value), MAX_SECONDS) * 1000;
  // Only an HTTP-date (it names a weekday or a month); Date.parse alone would also take
  // "1.5" or "-3" as dates.
  if (!/[a-z]{3}/i.test(value)) return null;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.min(Math.max(0, date - nowMs), MAX_SECONDS * 1000);
}
