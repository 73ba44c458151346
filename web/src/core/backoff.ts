/**
 * Reconnection delay: exponential backoff with "full jitter" (a uniform draw between 0 and the
 * capped exponential), so that every dashboard of a building does not hit a restarted relay in
 * the same second.
 */

export interface BackoffOptions {
  /** First ceiling, in ms: the server's `retry:` hint. */
  baseMs: number;
  /** Largest ceiling, in ms. */
  capMs: number;
}

/** `attempt` counts failures since the last successful open, from 0. `random` returns [0, 1). */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 0), 30); // 2 ** 30 already exceeds any cap
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
