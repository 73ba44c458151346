/**
 * Spaces requests evenly: at most `perSecond` start in any second. The Géoplateforme answers
 * 429 beyond 50 requests/s per client; staying under it avoids the penalty instead of
 * recovering from it.
 */
export class RateLimiter {
  readonly #intervalMs: number;
  #nextSlot = 0;

  constructor(perSecond: number) {
    this.#intervalMs = 1000 / perSecond;
  }

  /** Resolves when the caller may send its request. */
  take(): Promise<void> {
    const now = performance.now();
    const slot = Math.max(now, this.#nextSlot);
    this.#nextSlot = slot + this.#intervalMs;
    const wait = slot - now;
    return wait <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** Pushes every later request back, when the service asked for a pause (Retry-After). */
  pause(ms: number): void {
    this.#nextSlot = Math.max(this.#nextSlot, performance.now() + ms);
  }
}
