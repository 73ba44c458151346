/** How long to wait before the next attempt when the receiver did not say. */

export interface BackoffOptions {
  /** Delay before the second attempt, before jitter. Defaults to 5 000 ms. */
  baseMs?: number;
  /** Ceiling of any computed delay. Defaults to 300 000 ms (5 min). */
  maxMs?: number;
}

/**
 * With the default 8 attempts, an outage of 5 to 10 minutes is absorbed (waits of 5, 10, 20…
 * 300 s, each between half and all of that), and an alert is retried at most 5 min after the
 * receiver is back.
 */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 5000, maxMs: 300_000 };

/**
 * Capped exponential backoff with "equal jitter": half the delay is fixed, half random, so
 * relays that failed together do not retry together, yet never retry immediately.
 * `attempt` is the number of attempts already made (1 after the first failure).
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { baseMs, maxMs } = { ...DEFAULT_BACKOFF, ...options };
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const capped = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(capped / 2 + random() * (capped / 2));
}
