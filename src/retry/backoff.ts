/**
 * The one backoff of the server: every retry loop that talks to something remote (alert
 * receivers, Grist's REST API, Redis reconnections) waits this long between attempts.
 * The browser keeps its own copy in web/ (the bundle never imports server modules).
 */

export interface BackoffOptions {
  /** Delay before the second attempt, before jitter. Defaults to 5 000 ms. */
  baseMs?: number;
  /** Ceiling of any computed delay. Defaults to 300 000 ms (5 min). */
  maxMs?: number;
  /**
   * `equal` (default): half the step fixed, half random, so a retry never comes at once.
   * `full`: anywhere between 0 and the step, for callers that want the widest spread.
   */
  jitter?: "equal" | "full";
}

/**
 * With the alert defaults, an outage is retried at waits of 5, 10, 20… 300 s (each between
 * half and all of that): an alert leaves at most 5 min after its receiver is back.
 */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = {
  baseMs: 5000,
  maxMs: 300_000,
  jitter: "equal",
};

/**
 * Capped exponential backoff with jitter, so clients that failed together do not retry
 * together. `attempt` is the number of attempts already made (1 after the first failure).
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { baseMs, maxMs, jitter } = { ...DEFAULT_BACKOFF, ...options };
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const step = Math.min(maxMs, baseMs * 2 ** exponent);
  return jitter === "full"
    ? Math.floor(random() * step)
    : Math.round(step / 2 + random() * (step / 2));
}
