/**
 * A small Grist REST client over the built-in fetch, for what the relay needs: tables and
 * columns, records, webhooks (grist.md §2–§3). It keeps to Grist's limits (10 parallel requests
 * per document, §3.5), retries what is safe to retry with exponential backoff and full jitter,
 * and turns Grist's `{error}` answers into a `GristApiError` that names the document, table and
 * column in French, for operators.
 */
import { backoffDelayMs } from "../retry/backoff.ts";
import { parseRetryAfter } from "../retry/retry-after.ts";

/** How the client proves who it is. */
export type GristAuth =
  /** A user API key (Profile → API key), sent as `Authorization: Bearer <key>`. */
  | { kind: "apiKey"; apiKey: string }
  /** A document access token from `grist.getAccessToken()`, sent as `?auth=<token>` (§4.7). */
  | { kind: "accessToken"; token: string };

export interface GristClientOptions {
  /** Grist server root, e.g. `https://grist.example.fr` (a `/o/<org>` suffix is kept). */
  url: string;
  docId: string;
  auth: GristAuth;
  fetch?: typeof fetch;
  /** Shared between clients of one document so they stay under Grist's limit together. */
  limiter?: Semaphore;
  /** Attempts per request, first one included. Defaults to 5; 1 disables retries. */
  maxAttempts?: number;
  /** Backoff base in ms (attempt n waits up to base × 2ⁿ). Defaults to 250. */
  baseDelayMs?: number;
  /** Backoff cap in ms, also caps `Retry-After`. Defaults to 10 000. */
  maxDelayMs?: number;
  /** Per-request timeout in ms. Defaults to 30 000. */
  timeoutMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable for tests; must return a number in [0, 1). */
  random?: () => number;
}

/** Grist's own limit per document (`GRIST_MAX_PARALLEL_REQUESTS_PER_DOC`, §3.5). */
export const GRIST_MAX_PARALLEL_REQUESTS = 10;

/** A counting semaphore: at most `size` holders at once, the others wait in order. */
export class Semaphore {
  readonly size: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.size = size;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.size) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter so a newcomer cannot overtake it.
      if (next) next();
      else this.#active--;
    }
  }
}

export type GristErrorKind =
  | "bad-key"
  | "bad-token"
  | "missing-doc"
  | "missing-table"
  | "missing-column"
  | "not-owner"
  | "forbidden-url"
  | "not-configured"
  | "bad-request"
  | "rate-limited"
  | "server"
  | "unreachable";

export interface GristErrorContext {
  docId: string;
  tableId?: string;
  columnId?: string;
  method: string;
  /** Path without query string: a `?auth=` token must never reach a message or a log. */
  path: string;
}

export class GristApiError extends Error {
  readonly kind: GristErrorKind;
  /** HTTP status, or 0 when Grist could not be reached. */
  readonly status: number;
  /** Grist's own `error` text, for logs and support. */
  readonly gristMessage: string;
  readonly docId: string;
  readonly tableId: string | undefined;
  readonly columnId: string | undefined;

  constructor(
    kind: GristErrorKind,
    status: number,
    gristMessage: string,
    context: GristErrorContext,
    options?: { cause?: unknown },
  ) {
    super(describeError(kind, status, gristMessage, context), options);
    this.name = "GristApiError";
    this.kind = kind;
    this.status = status;
    this.gristMessage = gristMessage;
    this.docId = context.docId;
    this.tableId = context.tableId;
    this.columnId = context.columnId;
  }
}

/** Decides what a Grist error means from its status, message and the endpoint that gave it. */
export function classifyGristError(
  status: number,
  gristMessage: string,
  context: { path: string; auth: GristAuth["kind"] },
): GristErrorKind {
  if (status === 0) return "unreachable";
  if (status === 503 && /not yet configured|\/boot/i.test(gristMessage)) return "not-configured";
  if (status === 429) return "rate-limited";
  if (status >= 500) return "server";
  if (status === 403 && /url is forbidden/i.test(gristMessage)) return "forbidden-url";
  const onWebhooks = /\/webhooks(\/|$)/.test(context.path);
  if (status === 403 && (/no owner access/i.test(gristMessage) || onWebhooks)) return "not-owner";
  if (status === 401 || status === 403)
    return context.auth === "accessToken" ? "bad-token" : "bad-key";
  if (status === 404 && /table not found/i.test(gristMessage)) return "missing-table";
  if (status === 404 && /column not found/i.test(gristMessage)) return "missing-column";
  if (status === 404) return "missing-doc";
  return "bad-request";
}

function describeError(
  kind: GristErrorKind,
  status: number,
  gristMessage: string,
  context: GristErrorContext,
): string {
  const doc = `le document « ${context.docId} »`;
  const table = context.tableId
    ? `la table « ${context.tableId} » du document « ${context.docId} »`
    : doc;
  const said = gristMessage ? ` (Grist : ${gristMessage})` : "";
  switch (kind) {
    case "bad-key":
      return status === 401
        ? `Grist refuse la clé API pour ${doc}${said}. Vérifiez GRIST_API_KEY (Grist → Paramètres du profil → Clé API).`
        : `La clé API n'a pas accès à ${doc}${said}. Partagez le document avec le compte de cette clé.`;
    case "bad-token":
      return `Grist refuse le jeton d'accès pour ${doc}${said}.`;
    case "missing-doc":
      return `Grist ne trouve pas ${doc}${said}. Vérifiez GRIST_DOC_ID (Paramètres du document → ID du document) et GRIST_URL.`;
    case "missing-table":
      return `Grist ne trouve pas la table « ${context.tableId ?? "?"} » dans ${doc}${said}. Vérifiez GRIST_TABLE ou lancez « grist-realtime setup ».`;
    case "missing-column":
      return `Grist ne trouve pas la colonne « ${context.columnId ?? "?"} » dans ${table}${said}.`;
    case "not-owner":
      return `Seul un propriétaire de ${doc} peut gérer ses webhooks${said}. Utilisez la clé API d'un propriétaire.`;
    case "forbidden-url":
      return `Grist refuse l'adresse du webhook pour ${doc}${said}. Ajoutez l'hôte du relais (avec son port) à ALLOWED_WEBHOOK_DOMAINS dans la configuration de Grist.`;
    case "not-configured":
      return `Le serveur Grist n'est pas encore configuré${said}. Terminez l'installation sur /boot ou définissez GRIST_IN_SERVICE=true.`;
    case "rate-limited":
      return `Grist limite les requêtes sur ${doc}${said}. Réessayez plus tard.`;
    case "server":
      return `Erreur du serveur Grist (${status}) sur ${table}${said}.`;
    case "unreachable":
      return `Grist est injoignable (${context.method} ${context.path})${said}. Vérifiez GRIST_URL et le réseau.`;
    case "bad-request":
      return `Grist refuse la requête ${context.method} ${context.path} sur ${table}${said}.`;
  }
}

/** One Grist record as the REST API gives it: `{id, fields}` in the "normal" encoding (§3.1). */
export interface GristRecord {
  id: number;
  fields: Record<string, unknown>;
  errors?: Record<string, string>;
}

export interface GristColumn {
  id: string;
  fields: {
    label?: string;
    type?: string;
    /** A JSON string (§3.3), e.g. `{"choices":["A","B"]}`; `""` when unset. */
    widgetOptions?: string;
    isFormula?: boolean;
    formula?: string;
    [key: string]: unknown;
  };
}

export interface GristTable {
  id: string;
  fields: Record<string, unknown>;
}

/** Fields of a webhook as stored by Grist (`WebhookFields`, §2). */
export interface WebhookFields {
  url: string;
  eventTypes: Array<"add" | "update">;
  tableId: string;
  authorization?: string;
  enabled?: boolean;
  name?: string;
  memo?: string;
  isReadyColumn?: string | null;
  watchedColIds?: string[];
  unsubscribeKey?: string;
}

export interface GristWebhook {
  id: string;
  fields: WebhookFields;
  usage?: Record<string, unknown> | null;
}

export interface FetchRecordsOptions {
  /** 0 or absent: every row. */
  limit?: number;
  /** `{"col": [allowed values…]}` (§3.1). */
  filter?: Record<string, unknown[]>;
  sort?: string;
}

interface RequestSpec {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Relative to `/api/docs/{doc}`. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  tableId?: string;
  columnId?: string;
}

export class GristClient {
  readonly docId: string;
  readonly #apiRoot: string;
  readonly #auth: GristAuth;
  readonly #fetch: typeof fetch;
  readonly #limiter: Semaphore;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #timeoutMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(options: GristClientOptions) {
    this.docId = options.docId;
    this.#apiRoot = `${options.url.replace(/\/+$/, "")}/api/docs/${encodeURIComponent(options.docId)}`;
    this.#auth = options.auth;
    this.#fetch = options.fetch ?? fetch;
    this.#limiter = options.limiter ?? new Semaphore(GRIST_MAX_PARALLEL_REQUESTS);
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#baseDelayMs = options.baseDelayMs ?? 250;
    this.#maxDelayMs = options.maxDelayMs ?? 10_000;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
  }

  async listTables(): Promise<GristTable[]> {
    const body = await this.#request<{ tables: GristTable[] }>({ method: "GET", path: "/tables" });
    return body.tables;
  }

  /** Creates tables; returns their ids as Grist normalized them. */
  async addTables(tables: Array<{ id: string; columns: GristColumn[] }>): Promise<string[]> {
    const body = await this.#request<{ tables: Array<{ id: string }> }>({
      method: "POST",
      path: "/tables",
      body: { tables },
    });
    return body.tables.map((t) => t.id);
  }

  async listColumns(tableId: string): Promise<GristColumn[]> {
    const body = await this.#request<{ columns: GristColumn[] }>({
      method: "GET",
      path: `/tables/${encodeURIComponent(tableId)}/columns`,
      tableId,
    });
    return body.columns;
  }

  /** Adds columns; returns the ids Grist gave them (`ID` becomes `ID2`, §8). */
  async addColumns(tableId: string, columns: GristColumn[]): Promise<string[]> {
    const body = await this.#request<{ columns: Array<{ id: string }> }>({
      method: "POST",
      path: `/tables/${encodeURIComponent(tableId)}/columns`,
      body: { columns },
      tableId,
    });
    return body.columns.map((c) => c.id);
  }

  async updateColumns(tableId: string, columns: GristColumn[]): Promise<void> {
    await this.#request({
      method: "PATCH",
      path: `/tables/${encodeURIComponent(tableId)}/columns`,
      body: { columns },
      tableId,
      columnId: columns.length === 1 ? columns[0]?.id : undefined,
    });
  }

  async fetchRecords(tableId: string, options: FetchRecordsOptions = {}): Promise<GristRecord[]> {
    const query: Record<string, string> = {};
    if (options.limit) query.limit = String(options.limit);
    if (options.filter) query.filter = JSON.stringify(options.filter);
    if (options.sort) query.sort = options.sort;
    const body = await this.#request<{ records: GristRecord[] }>({
      method: "GET",
      path: `/tables/${encodeURIComponent(tableId)}/records`,
      query,
      tableId,
    });
    return body.records;
  }

  /** Adds rows; returns their new row ids in order. */
  async addRecords(tableId: string, rows: Array<Record<string, unknown>>): Promise<number[]> {
    if (rows.length === 0) return [];
    const body = await this.#request<{ records: Array<{ id: number }> }>({
      method: "POST",
      path: `/tables/${encodeURIComponent(tableId)}/records`,
      body: { records: rows.map((fields) => ({ fields })) },
      tableId,
    });
    return body.records.map((r) => r.id);
  }

  /**
   * Updates rows. Grist refuses a PATCH whose records set different fields (§8), so records
   * are grouped by field set and sent as one PATCH per group.
   */
  async updateRecords(tableId: string, records: GristRecord[]): Promise<void> {
    const groups = new Map<string, GristRecord[]>();
    for (const record of records) {
      const key = JSON.stringify(Object.keys(record.fields).sort());
      const group = groups.get(key) ?? [];
      group.push({ id: record.id, fields: record.fields });
      groups.set(key, group);
    }
    for (const group of groups.values()) {
      await this.#request({
        method: "PATCH",
        path: `/tables/${encodeURIComponent(tableId)}/records`,
        body: { records: group },
        tableId,
      });
    }
  }

  async listWebhooks(): Promise<GristWebhook[]> {
    const body = await this.#request<{ webhooks: GristWebhook[] }>({
      method: "GET",
      path: "/webhooks",
    });
    return body.webhooks;
  }

  /** Registers webhooks in one call; returns their ids in order. */
  async addWebhooks(webhooks: WebhookFields[]): Promise<string[]> {
    const body = await this.#request<{ webhooks: Array<{ id: string }> }>({
      method: "POST",
      path: "/webhooks",
      body: { webhooks: webhooks.map((fields) => ({ fields })) },
      tableId: webhooks[0]?.tableId,
    });
    return body.webhooks.map((w) => w.id);
  }

  /** PATCH takes the fields object directly, not wrapped (§2). */
  async updateWebhook(webhookId: string, patch: Partial<WebhookFields>): Promise<void> {
    await this.#request({
      method: "PATCH",
      path: `/webhooks/${encodeURIComponent(webhookId)}`,
      body: patch,
      tableId: patch.tableId,
    });
  }

  async #request<T>(spec: RequestSpec): Promise<T> {
    const context: GristErrorContext = {
      docId: this.docId,
      tableId: spec.tableId,
      columnId: spec.columnId,
      method: spec.method,
      path: `/api/docs/${this.docId}${spec.path}`,
    };
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#limiter.run(() => this.#attempt(spec, context));
      if (outcome.ok) return outcome.body as T;
      const error = outcome.error;
      if (attempt >= this.#maxAttempts || !isRetryable(error, spec.method)) throw error;
      await this.#sleep(this.#delayBeforeRetry(attempt, outcome.retryAfterMs));
    }
  }

  async #attempt(
    spec: RequestSpec,
    context: GristErrorContext,
  ): Promise<
    | { ok: true; body: unknown }
    | { ok: false; error: GristApiError; retryAfterMs: number | undefined }
  > {
    const url = new URL(this.#apiRoot + spec.path);
    for (const [key, value] of Object.entries(spec.query ?? {})) url.searchParams.set(key, value);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.#auth.kind === "apiKey") {
      headers.Authorization = `Bearer ${this.#auth.apiKey}`;
    } else {
      // Grist reads access tokens only from the query string (§4.7). The URL is never logged
      // nor put in error messages (those use `context.path`, which has no query).
      url.searchParams.set("auth", this.#auth.token);
    }
    // Token-authenticated writes must carry this header (CSRF guard, §3.5); harmless otherwise.
    if (spec.body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, {
        method: spec.method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        // A redirect would replay the key (or the ?auth= token) to wherever it points.
        redirect: "error",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await response.text();
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      const error = new GristApiError("unreachable", 0, reason, context, { cause });
      return { ok: false, error, retryAfterMs: undefined };
    }
    const body = parseJson(text);
    if (response.ok) return { ok: true, body };
    const gristMessage = errorText(body, text, response.status);
    const kind = classifyGristError(response.status, gristMessage, {
      path: context.path,
      auth: this.#auth.kind,
    });
    const error = new GristApiError(kind, response.status, gristMessage, {
      ...context,
      columnId: context.columnId ?? quotedName(gristMessage, "Column"),
      tableId: context.tableId ?? quotedName(gristMessage, "Table"),
    });
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), Date.now());
    return { ok: false, error, retryAfterMs: retryAfterMs ?? undefined };
  }

  /** Full jitter: a uniform wait in [0, min(cap, base × 2^(attempt-1))], or Retry-After. */
  #delayBeforeRetry(attempt: number, retryAfter: number | undefined): number {
    if (retryAfter !== undefined) return Math.min(retryAfter, this.#maxDelayMs);
    return backoffDelayMs(
      attempt,
      { baseMs: this.#baseDelayMs, maxMs: this.#maxDelayMs, jitter: "full" },
      this.#random,
    );
  }
}

/**
 * 429 means Grist refused before doing anything, so every method may retry it. Other failures
 * may hide a write that did happen: only idempotent methods retry them, so a POST never
 * creates a record or a webhook twice.
 */
function isRetryable(error: GristApiError, method: RequestSpec["method"]): boolean {
  if (error.kind === "rate-limited") return true;
  if (method === "POST") return false;
  return error.kind === "server" || error.kind === "unreachable";
}

function parseJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorText(body: unknown, text: string, status: number): string {
  if (typeof body === "object" && body !== null && "error" in body) {
    const error = (body as { error: unknown }).error;
    if (typeof error === "string") return error;
  }
  // Non-JSON error pages (a proxy's HTML) are cut short: the first line is enough to diagnose.
  const firstLine = text.split("\n", 1)[0]?.trim().slice(0, 200) ?? "";
  return firstLine || `HTTP ${status}`;
}

/** Grist names things as `Column not found "x"` / `Invalid column "x"` / `Table not found "T"`. */
function quotedName(message: string, noun: "Column" | "Table"): string | undefined {
  const match = new RegExp(`${noun}[^"]*"([^"]{1,256})"`, "i").exec(message);
  return match?.[1];
}
