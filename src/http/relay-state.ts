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
}
