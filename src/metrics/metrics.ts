/**
 * The metrics seam: the relay reports through this interface; Prometheus is one
 * implementation, `NOOP_METRICS` another (tests, tools).
 */
/**
 * Why a stream ended; the hub reports it, the metrics count it. Defined here, not in the hub,
 * so metrics and hub do not import each other. `slow`: its queue passed the bound; `stalled`:
 * its socket accepted nothing for too long; `gap`: the hub missed events, the subscriber comes
 * back through the reset path.
 */
export type CloseReason =
  | "client"
  | "gap"
  | "slow"
  | "stalled"
  | "expired"
  | "shutdown"
  | "error"
  | "replaced";

export interface Metrics {
  subscriberOpened(): void;
  subscriberClosed(reason: CloseReason): void;
  /** A stream refused by a limit or by auth. */
  subscriberRefused(reason: "auth" | "per-ip" | "total" | "shutdown"): void;
  eventsIngested(count: number, source: string): void;
  /** One event written to `subscribers` streams; `bytes` is its frame size. */
  eventDelivered(subscribers: number, bytes: number): void;
  /** Webhook received → event written to every socket, in seconds. */
  deliveryLatency(seconds: number): void;
  webhookAnswered(statusCode: number, code: string, seconds: number): void;
  /**
   * A webhook row whose `Derniere_MAJ` looked older than the stored state: `reread` when Grist
   * was asked for the current row, `applied` when the row was applied as sent.
   */
  olderRowReceived(outcome: "reread" | "applied"): void;
}

export const NOOP_METRICS: Metrics = Object.freeze({
  subscriberOpened() {},
  subscriberClosed() {},
  subscriberRefused() {},
  eventsIngested() {},
  eventDelivered() {},
  deliveryLatency() {},
  webhookAnswered() {},
  olderRowReceived() {},
});
