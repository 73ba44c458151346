/**
 * Durable queue of side effects (alerts) written in the same transaction as their events.
 * Delivery workers claim due items, then mark them sent, rescheduled or failed.
 */
export const OUTBOX_STATUSES = ["pending", "sent", "failed"] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

export interface OutboxItem {
  key: string;
  destination: string;
  payload: unknown;
  status: OutboxStatus;
  attempts: number;
  /** Epoch ms before which the item must not be tried again. */
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface OutboxCounts {
  pending: number;
  sent: number;
  failed: number;
}

export type OutboxRetryResult = "retried" | "not-found" | "not-failed";

export interface Outbox {
  /** Pending items whose `nextAttemptAt` has come, oldest first. */
  due(now: number, limit: number): Promise<OutboxItem[]>;
  markSent(key: string, now: number): Promise<void>;
  /** Counts one more attempt and sets when to try again. */
  reschedule(key: string, nextAttemptAt: number, error: string, now: number): Promise<void>;
  markFailed(key: string, error: string, now: number): Promise<void>;
  /**
   * An admin's "try again": a failed item goes back to pending, due now, its attempts counted
   * from 0 again (its last error stays until the next attempt). Says why when it cannot.
   */
  retry(key: string, now: number): Promise<OutboxRetryResult>;
  list(filter: { status?: OutboxStatus; limit: number }): Promise<OutboxItem[]>;
  counts(): Promise<OutboxCounts>;
}
