/**
 * The Grist double's state and shared rules: documents, tables, webhooks, roles, and the error
 * Grist answers with (`{error}` and a status).
 */
export type DocRole = "owners" | "editors" | "viewers";
export type Row = Record<string, unknown>;

export interface DoubleDocOptions {
  id: string;
  /** API key → role on this document. */
  access: Record<string, DocRole>;
}

export interface GristDoubleOptions {
  /** Known API keys; a key not listed gets 401 "Bad request: invalid API key". */
  apiKeys: string[];
  docs: DoubleDocOptions[];
  /** Same syntax as Grist's env var; unset or "" allows no webhook URL at all. */
  allowedWebhookDomains?: string;
  /** GRIST_TRIGGER_WAIT_DELAY: the unit of retry backoff and idle delay. Grist: 1000 ms. */
  waitDelayMs?: number;
  /** GRIST_TRIGGER_MAX_ATTEMPTS. Grist: 20. */
  maxAttempts?: number;
  /** GRIST_MAX_PARALLEL_REQUESTS_PER_DOC. Grist: 10. */
  maxParallelRequestsPerDoc?: number;
  /** A fresh install before /boot: every API call answers 503. */
  notConfigured?: boolean;
}

export interface WriteLogEntry {
  method: string;
  path: string;
  body: unknown;
  status: number;
}

export interface DeliveryLogEntry {
  webhookId: string;
  url: string;
  rows: Row[];
  attempt: number;
  outcome: "success" | "failure" | "dropped" | "url-not-allowed";
  status?: number;
  error?: string;
}

export interface AccessTokenResult {
  token: string;
  baseUrl: string;
  ttlMsecs: number;
}

export interface Column {
  id: string;
  colRef: number;
  label: string;
  type: string;
  widgetOptions: string;
  isFormula: boolean;
  formula: string;
  /** Trigger formulas (grist.md §9): 0 = new records only, 1 = never, 2 = any change. */
  recalcWhen: number;
}

export interface Table {
  id: string;
  tableRef: number;
  columns: Column[];
  rows: Map<number, { manualSort: number; values: Row }>;
  nextRowId: number;
}

export interface WebhookState {
  id: string;
  fields: {
    url: string;
    authorization: string;
    unsubscribeKey: string;
    eventTypes: string[];
    isReadyColumn: string | null;
    watchedColIds: string[];
    tableId: string;
    enabled: boolean;
    name: string;
    memo: string;
  };
  lastEventBatch: Record<string, unknown> | null;
}

export interface QueuedEvent {
  webhookId: string;
  payload: Row;
}

export interface Doc {
  id: string;
  /** The short id Grist shows in URLs and in getAccessToken's baseUrl (fixture: 12 chars). */
  urlId: string;
  access: Map<string, DocRole>;
  tables: Map<string, Table>;
  webhooks: WebhookState[];
  queue: QueuedEvent[];
  sending: boolean;
  tokenSecret: Buffer;
  inFlight: number;
  /** Grist numbers tables and columns per document. */
  nextTableRef: number;
  nextColRef: number;
}

export interface Identity {
  apiKey: string | null;
  token?: { docId: string; readOnly: boolean };
}

export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export const BATCH_SIZE = 100;
export const MAX_WAIT_UNITS = 64;
const ROLE_RANK: Record<DocRole, number> = { viewers: 1, editors: 2, owners: 3 };

/** The texts of Grist's `assertAccess`. */
export function requireRole(role: DocRole | null, wanted: DocRole): void {
  if (!role) throw new HttpError(403, "No view access");
  if (ROLE_RANK[role] < ROLE_RANK[wanted]) {
    throw new HttpError(403, wanted === "owners" ? "No owner access" : "No write access");
  }
}

export function recordsOf(body: unknown): Array<{ id?: unknown; fields?: Row }> {
  const records = (body as { records?: unknown })?.records;
  if (!Array.isArray(records) || records.length === 0) throw new HttpError(400, "Invalid payload");
  return records;
}

export function columnsOf(body: unknown): Array<{ id: string; fields?: Record<string, unknown> }> {
  const columns = (body as { columns?: unknown })?.columns;
  if (!Array.isArray(columns)) return [];
  return columns.filter((c) => typeof c?.id === "string");
}
