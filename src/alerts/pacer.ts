/**
 * Per-destination pacing: at most one message per `minIntervalMs` to a room (Tchap asks bots
 * for about one call per second), and a pause of the whole destination after a 429 or an
 * outage, so queued alerts wait behind the oldest instead of each burning its own attempts.
 */
export class DestinationPacer {
  readonly #lastSentAt = new Map<string, number>();
  readonly #blockedUntil = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Milliseconds to wait before the next message to `destination` may go. */
  waitMs(destination: string, minIntervalMs: number): number {
    const now = this.#now();
    const last = this.#lastSentAt.get(destination);
    const paced = last === undefined ? now : last + minIntervalMs;
    const blocked = this.#blockedUntil.get(destination) ?? now;
    return Math.max(0, paced - now, blocked - now);
  }

  recordAttempt(destination: string): void {
    this.#lastSentAt.set(destination, this.#now());
  }

  blockUntil(destination: string, time: number): void {
    this.#blockedUntil.set(destination, Math.max(time, this.#blockedUntil.get(destination) ?? 0));
  }
}
