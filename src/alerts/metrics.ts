/**
 * Counters the dispatcher reports to; the metrics module implements them with prom-client.
 * The alert code never imports Prometheus itself.
 */
export interface AlertMetrics {
  alertSent(destination: string): void;
  /** Given up: a permanent refusal or the last allowed attempt failed. */
  alertFailed(destination: string): void;
  /** An attempt failed and another is scheduled. */
  alertRetried(destination: string): void;
  /** The receiver answered 429. */
  rateLimited(destination: string): void;
}

export const noopAlertMetrics: AlertMetrics = {
  alertSent() {},
  alertFailed() {},
  alertRetried() {},
  rateLimited() {},
};
