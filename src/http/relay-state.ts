/** What the relay knows about itself, for readiness and `/api/status`. */
export interface ReconciliationResult {
  at: string;
  ok: boolean;
  added: number;
  updated: number;
  removed: number;
  error: string | null;
}

export class RelayState {
  readonly startedAt = new Date().toISOString();
  shuttingDown = false;
  lastWebhookAt: string | null = null;
  lastReconciliation: ReconciliationResult | null = null;
  lastEventId: string | null = null;
  /** Events per minute over the last hour, oldest first; index = minute since epoch % 60. */
  readonly #minutes = new Array<{ minute: number; count: number }>(60).fill({
    minute: -1,
    count: 0,
  });

  countEvents(count: number, now = Date.now()): void {
    const minute = Math.floor(now / 60_000);
    const slot = minute % 60;
    const bucket = this.#minutes[slot];
    this.#minutes[slot] = { minute, count: (bucket?.minute === minute ? bucket.count : 0) + count };
  }

  eventsLastHour(now = Date.now()): number {
    const minute = Math.floor(now / 60_000);
    return this.#minutes.reduce(
      (sum, bucket) => (minute - bucket.minute < 60 ? sum + bucket.count : sum),
      0,
    );
  }
}
