/**
 * Test double of a Grist 1.7.17 server, for the endpoints the relay uses. Every behaviour
 * below comes from ../shared/reference/grist.md and the captures in ../shared/fixtures/grist:
 * - API keys (`Authorization: Bearer`), owner / editor / viewer roles, access tokens (`?auth=`,
 *   one document, read-only option, expiry), the error texts of Grist's Authorizer;
 * - tables, columns (`ID` becomes `ID2`, `widgetOptions` as a JSON string), records
 *   (GET/POST/PATCH, `records/delete`; a PATCH whose records set different fields is a 400);
 * - webhooks CRUD with `ALLOWED_WEBHOOK_DOMAINS` checks, owners only;
 * - webhook sending: one queue and one send loop per document (head-of-line blocking), batches
 *   of up to 100 consecutive events of one webhook, flat rows (`id`, `manualSort`, every
 *   column), headers in Grist's order with `Authorization` verbatim, retries after 1, 2, 4 …
 *   64 units (`waitDelayMs` = GRIST_TRIGGER_WAIT_DELAY), no delete event.
 * Test hooks: `dropNextDeliveries`, `deleteRow`, `failNextRequests`, `pauseRequests`, and the
 * `writes` and `deliveries` logs. Differences from Grist are marked "[double]".
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import {
  type ClientRequest,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";

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

interface Column {
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

interface Table {
  id: string;
  tableRef: number;
  columns: Column[];
  rows: Map<number, { manualSort: number; values: Row }>;
  nextRowId: number;
}

interface WebhookState {
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

interface QueuedEvent {
  webhookId: string;
  payload: Row;
}

interface Doc {
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
}

interface Identity {
  apiKey: string | null;
  token?: { docId: string; readOnly: boolean };
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const MAX_BODY_BYTES = 1024 * 1024;
const BATCH_SIZE = 100;
const MAX_WAIT_UNITS = 64;
const TOKEN_TTL_MS = 15 * 60 * 1000;
const ROLE_RANK: Record<DocRole, number> = { viewers: 1, editors: 2, owners: 3 };

/** Grist's `isUrlAllowed` (§1.7): host *with port*, exact or `.suffix`; http only for localhost. */
export function isWebhookUrlAllowed(url: string, allowedDomains: string | undefined): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return false;
  const domains = (allowedDomains ?? "")
    .split(",")
    .map((d) => d.trim())
    .filter(Boolean);
  if (domains.includes("*")) return true;
  if (parsed.protocol === "http:" && parsed.hostname !== "localhost") return false;
  return domains.some((d) => parsed.host === d || parsed.host.endsWith(`.${d}`));
}

/** Grist's default cell value for a new row, by column type (§1.2). */
function defaultValue(type: string): unknown {
  if (type === "Text" || type === "Choice") return "";
  if (type === "Numeric" || type === "Int" || type.startsWith("Ref:")) return 0;
  if (type === "Bool") return false;
  return null;
}

/** Grist-like identifier: accents dropped, other characters to `_`, unique case-insensitively. */
function uniqueIdent(wanted: string, taken: readonly string[], capitalize: boolean): string {
  let base = wanted
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (!base) base = capitalize ? "Table" : "A";
  if (/^\d/.test(base)) base = `${capitalize ? "T" : "c"}${base}`;
  if (capitalize) base = base[0]?.toUpperCase() + base.slice(1);
  const lower = new Set(taken.map((t) => t.toLowerCase()));
  if (!lower.has(base.toLowerCase())) return base;
  for (let n = 2; ; n++) if (!lower.has(`${base}${n}`.toLowerCase())) return `${base}${n}`;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

export class GristDouble {
  /** Every non-GET API request, answered or refused, in order. */
  readonly writes: WriteLogEntry[] = [];
  /** Every webhook POST attempt (and every dropped batch), in order. */
  readonly deliveries: DeliveryLogEntry[] = [];
  /** Highest number of API requests seen in flight at once on one document. */
  peakInFlight = 0;
  /** Requests refused with 429 for exceeding the parallel limit. */
  rejectedForParallelism = 0;
  allowedWebhookDomains: string | undefined;

  readonly #docs = new Map<string, Doc>();
  readonly #apiKeys: Set<string>;
  readonly #userIds = new Map<string, number>();
  readonly #waitDelayMs: number;
  readonly #maxAttempts: number;
  readonly #maxParallel: number;
  readonly #notConfigured: boolean;
  readonly #server: Server;
  readonly #outgoing = new Set<ClientRequest>();
  readonly #stop = new AbortController();
  readonly #idle = new EventTarget();
  #dropBudget = 0;
  #faults: Array<{ status: number; error: string }> = [];
  #pause: Promise<void> | null = null;
  #nextColRef = 1;
  #nextTableRef = 1;
  #url = "";

  constructor(options: GristDoubleOptions) {
    this.#apiKeys = new Set(options.apiKeys);
    for (const [index, key] of options.apiKeys.entries()) this.#userIds.set(key, index + 1);
    this.allowedWebhookDomains = options.allowedWebhookDomains;
    this.#waitDelayMs = options.waitDelayMs ?? 1000;
    this.#maxAttempts = options.maxAttempts ?? 20;
    this.#maxParallel = options.maxParallelRequestsPerDoc ?? 10;
    this.#notConfigured = options.notConfigured ?? false;
    for (const doc of options.docs) {
      this.#docs.set(doc.id, {
        id: doc.id,
        urlId: doc.id.length > 12 ? doc.id.slice(0, 12) : doc.id,
        access: new Map(Object.entries(doc.access)),
        tables: new Map(),
        webhooks: [],
        queue: [],
        sending: false,
        tokenSecret: Buffer.from(randomUUID()),
        inFlight: 0,
      });
    }
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.#send(res, 500, { error: String(error) });
      });
    });
  }

  /** `http://localhost:<port>`: the root to give clients as GRIST_URL. */
  get url(): string {
    return this.#url;
  }

  async listen(): Promise<this> {
    this.#server.listen(0, "127.0.0.1");
    await once(this.#server, "listening");
    this.#url = `http://localhost:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    for (const req of this.#outgoing) req.destroy();
    this.#pause = null;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---- test hooks --------------------------------------------------------------------------

  /** The next `n` batches are discarded instead of sent, as when Grist's memory queue is lost. */
  dropNextDeliveries(n: number): void {
    this.#dropBudget += n;
  }

  /** The next `n` API requests answer `status` with `{error}` (429/5xx backoff tests). */
  failNextRequests(n: number, status: number, error = "Injected failure"): void {
    for (let i = 0; i < n; i++) this.#faults.push({ status, error });
  }

  /** Holds API requests (after they count as in flight) until the returned function is called. */
  pauseRequests(): () => void {
    let release = () => {};
    this.#pause = new Promise<void>((resolve) => {
      release = resolve;
    });
    return () => {
      this.#pause = null;
      release();
    };
  }

  /** API requests currently in flight on `docId`. */
  inFlight(docId: string): number {
    return this.#doc(docId).inFlight;
  }

  /** Resolves once every document's webhook queue is empty and no batch is being sent. */
  async whenIdle(): Promise<void> {
    while ([...this.#docs.values()].some((d) => d.sending || d.queue.length > 0)) {
      await once(this.#idle, "idle");
    }
  }

  /** Creates a table as the Grist UI would (no webhook); returns the real column ids. */
  createTable(
    docId: string,
    tableId: string,
    columns: Array<{ id: string; label?: string; type?: string; widgetOptions?: string }>,
  ): string[] {
    const table = this.#createTable(this.#doc(docId), tableId);
    return columns.map((c) => this.#addColumn(table, c.id, c).id);
  }

  /** Adds rows as a user edit would: `add` webhooks fire. Returns the new row ids. */
  addRows(docId: string, tableId: string, rows: Row[]): number[] {
    return this.#addRecords(this.#doc(docId), this.#table(this.#doc(docId), tableId), rows);
  }

  /** Changes one row as a user edit would: `update` webhooks fire if a value changed. */
  updateRow(docId: string, tableId: string, rowId: number, fields: Row): void {
    const doc = this.#doc(docId);
    this.#updateRecords(doc, this.#table(doc, tableId), [{ id: rowId, fields }]);
  }

  /** Deletes a row. Grist has no delete webhook (§1.4), so nothing is sent. */
  deleteRow(docId: string, tableId: string, rowId: number): void {
    this.#table(this.#doc(docId), tableId).rows.delete(rowId);
  }

  /** Current rows as a webhook would carry them. */
  rows(docId: string, tableId: string): Row[] {
    const table = this.#table(this.#doc(docId), tableId);
    return [...table.rows.keys()].map((id) => this.#payload(table, id));
  }

  /** What `grist.getAccessToken()` gives a widget of this user (`ttlMs` < 0: already expired). */
  mintAccessToken(
    docId: string,
    apiKey: string,
    options: { readOnly?: boolean; ttlMs?: number } = {},
  ): AccessTokenResult {
    const doc = this.#doc(docId);
    const ttlMs = options.ttlMs ?? TOKEN_TTL_MS;
    const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
    const payload = base64url(
      JSON.stringify({
        userId: this.#userIds.get(apiKey) ?? 0,
        docId: doc.id,
        readOnly: options.readOnly ?? false,
        exp: Math.floor((Date.now() + ttlMs) / 1000),
      }),
    );
    const signature = createHmac("sha256", doc.tokenSecret).update(`${header}.${payload}`);
    return {
      token: `${header}.${payload}.${base64url(signature.digest())}`,
      baseUrl: `${this.#url}/api/docs/${doc.urlId}`,
      ttlMsecs: ttlMs,
    };
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    let body: unknown;
    let status = 200;
    let doc: Doc | undefined;
    try {
      body = await readJson(req);
      if (this.#notConfigured) throw new HttpError(503, "Grist is not yet configured. Visit /boot");
      const match = /^\/api\/docs\/([^/]+)(\/.*)?$/.exec(url.pathname);
      if (!match) throw new HttpError(404, `not found: ${url.pathname}`);
      const identity = this.#identify(req, url);
      doc = this.#lookupDoc(decodeURIComponent(match[1] ?? ""));
      doc.inFlight++;
      this.peakInFlight = Math.max(this.peakInFlight, doc.inFlight);
      if (doc.inFlight > this.#maxParallel) {
        this.rejectedForParallelism++;
        throw new HttpError(
          429,
          `Too many backlogged requests for document ${doc.id} - try again later?`,
        );
      }
      if (this.#pause) await this.#pause;
      const fault = this.#faults.shift();
      if (fault) throw new HttpError(fault.status, fault.error);
      const role = this.#role(doc, identity);
      const result = this.#route(doc, role, method, match[2] ?? "/", url.searchParams, body);
      this.#send(res, 200, result);
    } catch (error) {
      status = error instanceof HttpError ? error.status : 500;
      this.#send(res, status, { error: error instanceof Error ? error.message : String(error) });
    } finally {
      if (doc) doc.inFlight--;
      if (method !== "GET") this.writes.push({ method, path: url.pathname, body, status });
    }
  }

  #send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body ?? null);
    res.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
    });
    res.end(text);
  }

  #identify(req: IncomingMessage, url: URL): Identity {
    const token = url.searchParams.get("auth");
    if (token) return this.#verifyToken(token);
    const header = req.headers.authorization;
    if (header === undefined) return { apiKey: null };
    const [scheme, key] = header.split(" ");
    if (scheme !== "Bearer") {
      throw new HttpError(401, "Bad request: unsupported Authorization scheme, expected 'Bearer'");
    }
    if (!key || !this.#apiKeys.has(key)) throw new HttpError(401, "Bad request: invalid API key");
    return { apiKey: key };
  }

  #verifyToken(token: string): Identity {
    const [header = "", payload = "", signature = ""] = token.split(".");
    let content: { userId?: unknown; docId?: unknown; readOnly?: unknown; exp?: unknown };
    try {
      content = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      throw new HttpError(401, "Broken token");
    }
    const doc = typeof content?.docId === "string" ? this.#docs.get(content.docId) : undefined;
    if (typeof content !== "object" || content === null || typeof content.docId !== "string") {
      throw new HttpError(401, "Broken token");
    }
    const expected = doc
      ? createHmac("sha256", doc.tokenSecret).update(`${header}.${payload}`).digest()
      : Buffer.alloc(32);
    const given = Buffer.from(signature, "base64url");
    if (!doc || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HttpError(401, "Cannot verify token");
    }
    if (typeof content.exp !== "number" || content.exp * 1000 <= Date.now()) {
      throw new HttpError(401, "Token has expired");
    }
    const apiKey = [...this.#userIds].find(([, id]) => id === content.userId)?.[0] ?? null;
    return { apiKey, token: { docId: content.docId, readOnly: content.readOnly === true } };
  }

  #lookupDoc(idOrUrlId: string): Doc {
    const doc =
      this.#docs.get(idOrUrlId) ?? [...this.#docs.values()].find((d) => d.urlId === idOrUrlId);
    if (doc) return doc;
    throw new HttpError(404, "document not found");
  }

  #role(doc: Doc, identity: Identity): DocRole | null {
    if (identity.token && identity.token.docId !== doc.id) {
      throw new HttpError(401, "token misuse");
    }
    const role = identity.apiKey ? (doc.access.get(identity.apiKey) ?? null) : null;
    if (role && identity.token?.readOnly) return "viewers";
    return role;
  }

  #route(
    doc: Doc,
    role: DocRole | null,
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
  ): unknown {
    const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
    const [first, name, sub, extra] = segments;
    const route = `${method} ${[first, name && "*", sub, extra].filter(Boolean).join("/")}`;
    // Webhooks are owners-only (§1.8); reads need viewers, every other write needs editors.
    requireRole(role, first === "webhooks" ? "owners" : method === "GET" ? "viewers" : "editors");
    const table = () => this.#table(doc, name ?? "");
    switch (route) {
      case "GET webhooks":
        return this.#listWebhooks(doc);
      case "POST webhooks":
        return this.#addWebhooks(doc, body);
      case "PATCH webhooks/*":
        return this.#patchWebhook(doc, name, body);
      case "DELETE webhooks/*":
        return this.#deleteWebhook(doc, name);
      case "GET tables":
        return this.#listTables(doc);
      case "POST tables":
        return this.#addTables(doc, body);
      case "GET tables/*/columns":
        return this.#listColumns(table());
      case "POST tables/*/columns":
        return this.#postColumns(table(), body);
      case "PATCH tables/*/columns":
        return this.#patchColumns(table(), body);
      case "GET tables/*/records":
        return this.#getRecords(table(), query);
      case "POST tables/*/records": {
        const ids = this.#addRecords(
          doc,
          table(),
          recordsOf(body).map((r) => r.fields ?? {}),
        );
        return { records: ids.map((id) => ({ id })) };
      }
      case "PATCH tables/*/records":
        return this.#patchRecords(doc, table(), body);
      case "POST tables/*/records/delete": {
        if (!Array.isArray(body)) throw new HttpError(400, "Expected an array of row ids");
        const rows = table().rows;
        for (const id of body) rows.delete(Number(id));
        return null;
      }
      default:
        throw new HttpError(404, `not found: ${method} ${path}`);
    }
  }

  // ---- tables and columns --------------------------------------------------------------------

  #doc(docId: string): Doc {
    const doc = this.#docs.get(docId);
    if (!doc) throw new Error(`unknown doc ${docId}`);
    return doc;
  }

  #table(doc: Doc, tableId: string): Table {
    const table = doc.tables.get(tableId);
    if (!table) throw new HttpError(404, `Table not found "${tableId}"`);
    return table;
  }

  #createTable(doc: Doc, wanted: string): Table {
    const id = uniqueIdent(wanted, [...doc.tables.keys()], true);
    const table: Table = {
      id,
      tableRef: this.#nextTableRef++,
      columns: [],
      rows: new Map(),
      nextRowId: 1,
    };
    doc.tables.set(id, table);
    return table;
  }

  #addColumn(
    table: Table,
    wantedId: string,
    fields: {
      label?: unknown;
      type?: unknown;
      widgetOptions?: unknown;
      formula?: unknown;
      isFormula?: unknown;
    },
  ): Column {
    if (fields.widgetOptions !== undefined && typeof fields.widgetOptions !== "string") {
      // [double] Grist stores widgetOptions as a JSON string; refuse objects so clients send
      // what a real server expects.
      throw new HttpError(400, "widgetOptions must be a JSON string");
    }
    const taken = ["id", "manualSort", ...table.columns.map((c) => c.id)];
    const column: Column = {
      id: uniqueIdent(wantedId, taken, false),
      colRef: this.#nextColRef++,
      label: typeof fields.label === "string" ? fields.label : wantedId,
      type: typeof fields.type === "string" ? fields.type : "Any",
      widgetOptions: fields.widgetOptions ?? "",
      isFormula: fields.isFormula === true,
      formula: typeof fields.formula === "string" ? fields.formula : "",
      // As observed (grist.md §9): recalcWhen given on creation is not applied; only a PATCH
      // of the column sets it. [double] assumed the same for columns added to a table.
      recalcWhen: 0,
    };
    table.columns.push(column);
    for (const row of table.rows.values()) row.values[column.id] = defaultValue(column.type);
    return column;
  }

  #listTables(doc: Doc): unknown {
    return {
      tables: [...doc.tables.values()].map((t) => ({
        id: t.id,
        fields: { tableRef: t.tableRef, onDemand: false, primaryViewId: t.tableRef },
      })),
    };
  }

  #addTables(doc: Doc, body: unknown): unknown {
    const tables = (body as { tables?: unknown })?.tables;
    if (!Array.isArray(tables) || tables.length === 0) throw new HttpError(400, "Invalid payload");
    const ids = tables.map((spec: { id?: string; columns?: unknown }) => {
      const table = this.#createTable(doc, spec.id ?? "Table");
      for (const c of columnsOf(spec)) this.#addColumn(table, c.id, c.fields ?? {});
      return { id: table.id };
    });
    return { tables: ids };
  }

  #listColumns(table: Table): unknown {
    return {
      columns: table.columns.map((c, index) => ({
        id: c.id,
        fields: {
          colRef: c.colRef,
          label: c.label,
          isFormula: c.isFormula,
          type: c.type,
          parentId: table.tableRef,
          parentPos: index + 1,
          widgetOptions: c.widgetOptions,
          formula: c.formula,
          description: "",
          untieColIdFromLabel: false,
          summarySourceCol: 0,
          displayCol: 0,
          visibleCol: 0,
          rules: null,
          reverseCol: 0,
          recalcWhen: c.recalcWhen,
          recalcDeps: null,
        },
      })),
    };
  }

  #postColumns(table: Table, body: unknown): unknown {
    const columns = columnsOf(body);
    if (columns.length === 0) throw new HttpError(400, "Invalid payload");
    return {
      columns: columns.map((c) => ({ id: this.#addColumn(table, c.id, c.fields ?? {}).id })),
    };
  }

  #patchColumns(table: Table, body: unknown): unknown {
    for (const spec of columnsOf(body)) {
      const column = table.columns.find((c) => c.id === spec.id);
      if (!column) throw new HttpError(404, `Column not found "${spec.id}"`);
      const fields = spec.fields ?? {};
      if (fields.widgetOptions !== undefined && typeof fields.widgetOptions !== "string") {
        throw new HttpError(400, "widgetOptions must be a JSON string");
      }
      if (typeof fields.label === "string") column.label = fields.label;
      if (typeof fields.widgetOptions === "string") column.widgetOptions = fields.widgetOptions;
      // [double] a type change keeps the stored values as they are (Grist would convert them).
      if (typeof fields.type === "string") column.type = fields.type;
      if (typeof fields.formula === "string") column.formula = fields.formula;
      if (typeof fields.isFormula === "boolean") column.isFormula = fields.isFormula;
      if (typeof fields.recalcWhen === "number") column.recalcWhen = fields.recalcWhen;
    }
    return null;
  }

  // ---- records -------------------------------------------------------------------------------

  #getRecords(table: Table, query: URLSearchParams): unknown {
    const limit = Number(query.get("limit") ?? 0);
    const filter = query.get("filter") ? JSON.parse(query.get("filter") ?? "{}") : {};
    const hidden = query.get("hidden") === "true";
    let ids = [...table.rows.keys()].sort((a, b) => a - b);
    ids = ids.filter((id) => {
      const values = table.rows.get(id)?.values ?? {};
      return Object.entries(filter as Record<string, unknown[]>).every(([col, allowed]) => {
        if (!Array.isArray(allowed)) throw new HttpError(400, "filter values must be arrays");
        return allowed.includes(col === "id" ? id : values[col]);
      });
    });
    if (limit > 0) ids = ids.slice(0, limit);
    return {
      records: ids.map((id) => {
        const { id: _id, manualSort, ...fields } = this.#payload(table, id);
        return { id, fields: hidden ? { manualSort, ...fields } : fields };
      }),
    };
  }

  #checkColumns(table: Table, fields: Row): void {
    for (const col of Object.keys(fields)) {
      if (!table.columns.some((c) => c.id === col)) {
        throw new HttpError(400, `Invalid column "${col}"`);
      }
    }
  }

  #addRecords(doc: Doc, table: Table, rows: Row[]): number[] {
    for (const fields of rows) this.#checkColumns(table, fields);
    // As captured (add_multi.json): a column set in some records of the batch is null in the
    // others; a column set in none gets its type's default.
    const mentioned = new Set(rows.flatMap((r) => Object.keys(r)));
    const ids = rows.map((fields) => {
      const id = table.nextRowId++;
      const values: Row = {};
      for (const c of table.columns) {
        values[c.id] =
          c.id in fields ? fields[c.id] : mentioned.has(c.id) ? null : defaultValue(c.type);
      }
      table.rows.set(id, { manualSort: id, values });
      // Trigger formulas apply to new records whatever recalcWhen says (0 and 2 alike).
      stampTriggers(table, values, new Set(Object.keys(fields)), [0, 2]);
      return id;
    });
    this.#trigger(doc, table, "add", ids, new Map());
    return ids;
  }

  #patchRecords(doc: Doc, table: Table, body: unknown): unknown {
    const records = recordsOf(body);
    const shape = (r: { fields?: Row }) => JSON.stringify(Object.keys(r.fields ?? {}).sort());
    if (records.some((r) => shape(r) !== shape(records[0] ?? {}))) {
      throw new HttpError(400, "PATCH requires all records to have same fields");
    }
    this.#updateRecords(
      doc,
      table,
      records.map((r) => ({ id: Number(r.id), fields: r.fields ?? {} })),
    );
    return null;
  }

  #updateRecords(doc: Doc, table: Table, records: Array<{ id: number; fields: Row }>): void {
    for (const r of records) {
      this.#checkColumns(table, r.fields);
      // [double] message and status not captured from a real server.
      if (!table.rows.has(r.id)) throw new HttpError(400, `Invalid row id ${r.id}`);
    }
    const changed = new Map<number, Set<string>>();
    for (const r of records) {
      const row = table.rows.get(r.id);
      if (!row) continue;
      for (const [col, value] of Object.entries(r.fields)) {
        // Grist's data engine drops no-op updates, so they trigger nothing.
        if (JSON.stringify(row.values[col]) === JSON.stringify(value)) continue;
        row.values[col] = value;
        changed.set(r.id, (changed.get(r.id) ?? new Set()).add(col));
      }
    }
    for (const [id, columns] of changed) {
      const row = table.rows.get(id);
      if (row) stampTriggers(table, row.values, columns, [2]);
    }
    this.#trigger(doc, table, "update", [...changed.keys()], changed);
  }

  #payload(table: Table, id: number): Row {
    const row = table.rows.get(id);
    if (!row) throw new Error(`no row ${id}`);
    return { id, manualSort: row.manualSort, ...row.values };
  }

  // ---- webhooks: management ------------------------------------------------------------------

  #listWebhooks(doc: Doc): unknown {
    return {
      webhooks: doc.webhooks.map((w) => ({
        id: w.id,
        fields: { ...w.fields },
        usage: {
          status: doc.queue.some((e) => e.webhookId === w.id) ? "sending" : "idle",
          numWaiting: doc.queue.filter((e) => e.webhookId === w.id).length,
          lastEventBatch: w.lastEventBatch,
        },
      })),
    };
  }

  #validateWebhook(doc: Doc, fields: Record<string, unknown>, creating: boolean): void {
    if (creating && typeof fields.url !== "string") throw new HttpError(400, "Missing url");
    if (
      fields.url !== undefined &&
      !isWebhookUrlAllowed(String(fields.url), this.allowedWebhookDomains)
    ) {
      throw new HttpError(403, "Provided url is forbidden");
    }
    if (creating || fields.eventTypes !== undefined) {
      const types = fields.eventTypes;
      if (!Array.isArray(types) || types.length === 0)
        throw new HttpError(400, "eventTypes must be a non-empty array");
      types.forEach((t, i) => {
        if (t !== "add" && t !== "update") {
          throw new HttpError(400, `eventTypes[${i}] is none of "add", "update"`);
        }
      });
    }
    if (creating || fields.tableId !== undefined) {
      const table = this.#table(doc, String(fields.tableId));
      for (const col of (fields.watchedColIds as string[] | undefined) ?? []) {
        const id = col.replace(/^\$/, "");
        if (!table.columns.some((c) => c.id === id))
          throw new HttpError(404, `Column not found "${id}"`);
      }
    }
  }

  #addWebhooks(doc: Doc, body: unknown): unknown {
    const specs = (body as { webhooks?: Array<{ fields?: Record<string, unknown> }> })?.webhooks;
    if (!Array.isArray(specs)) throw new HttpError(400, "Invalid payload");
    for (const spec of specs) this.#validateWebhook(doc, spec.fields ?? {}, true);
    const ids = specs.map((spec) => {
      const f = spec.fields ?? {};
      const webhook: WebhookState = {
        id: randomUUID(),
        fields: {
          url: String(f.url),
          authorization: typeof f.authorization === "string" ? f.authorization : "",
          unsubscribeKey: randomUUID(),
          eventTypes: f.eventTypes as string[],
          isReadyColumn:
            typeof f.isReadyColumn === "string" && f.isReadyColumn ? f.isReadyColumn : null,
          watchedColIds: ((f.watchedColIds as string[] | undefined) ?? []).map((c) =>
            c.replace(/^\$/, ""),
          ),
          tableId: String(f.tableId),
          enabled: f.enabled !== false,
          name: typeof f.name === "string" ? f.name : "",
          memo: typeof f.memo === "string" ? f.memo : "",
        },
        lastEventBatch: null,
      };
      doc.webhooks.push(webhook);
      return { id: webhook.id };
    });
    return { webhooks: ids };
  }

  #patchWebhook(doc: Doc, webhookId: string | undefined, body: unknown): unknown {
    const webhook = doc.webhooks.find((w) => w.id === webhookId);
    if (!webhook) throw new HttpError(404, `Webhook not found "${webhookId}"`);
    const patch = (body ?? {}) as Record<string, unknown>;
    this.#validateWebhook(doc, patch, false);
    const f = webhook.fields;
    if (typeof patch.tableId === "string" && patch.tableId !== f.tableId) {
      // Changing the table resets the column-dependent settings (§2).
      f.tableId = patch.tableId;
      f.watchedColIds = [];
      f.isReadyColumn = null;
    }
    if (typeof patch.url === "string") f.url = patch.url;
    if (typeof patch.authorization === "string") f.authorization = patch.authorization;
    if (Array.isArray(patch.eventTypes)) f.eventTypes = patch.eventTypes as string[];
    if (typeof patch.name === "string") f.name = patch.name;
    if (typeof patch.memo === "string") f.memo = patch.memo;
    if (Array.isArray(patch.watchedColIds)) f.watchedColIds = patch.watchedColIds as string[];
    if (typeof patch.enabled === "boolean") {
      f.enabled = patch.enabled;
      // Disabling a webhook clears its queued events (§1.5).
      if (!patch.enabled) doc.queue = doc.queue.filter((e) => e.webhookId !== webhook.id);
    }
    return { success: true };
  }

  #deleteWebhook(doc: Doc, webhookId: string | undefined): unknown {
    const index = doc.webhooks.findIndex((w) => w.id === webhookId);
    if (index < 0) throw new HttpError(404, `Webhook not found "${webhookId}"`);
    doc.webhooks.splice(index, 1);
    doc.queue = doc.queue.filter((e) => e.webhookId !== webhookId);
    return { success: true };
  }

  // ---- webhooks: sending ---------------------------------------------------------------------

  /** One event per (webhook, row), webhook after webhook, as Grist's Triggers.ts enqueues. */
  #trigger(
    doc: Doc,
    table: Table,
    kind: "add" | "update",
    rowIds: number[],
    changedColumns: Map<number, Set<string>>,
  ): void {
    if (rowIds.length === 0) return;
    for (const webhook of doc.webhooks) {
      const f = webhook.fields;
      if (!f.enabled || f.tableId !== table.id || !f.eventTypes.includes(kind)) continue;
      for (const id of rowIds) {
        const changed = changedColumns.get(id);
        // watchedColIds filters updates only (§1.4).
        if (kind === "update" && f.watchedColIds.length > 0 && changed) {
          if (!f.watchedColIds.some((c) => changed.has(c))) continue;
        }
        doc.queue.push({ webhookId: webhook.id, payload: this.#payload(table, id) });
      }
    }
    if (!doc.sending) void this.#sendLoop(doc);
  }

  async #sendLoop(doc: Doc): Promise<void> {
    doc.sending = true;
    try {
      // Grist's loop polls an idle queue every wait unit and is not woken by new events (§8).
      await this.#sleep(this.#waitDelayMs);
      while (doc.queue.length > 0 && !this.#stop.signal.aborted) {
        const head = doc.queue[0] as QueuedEvent;
        let size = 0;
        while (size < BATCH_SIZE && doc.queue[size]?.webhookId === head.webhookId) size++;
        const batch = doc.queue.slice(0, size);
        const delivered = await this.#deliver(doc, head.webhookId, batch);
        if (this.#stop.signal.aborted) return;
        // The queue may have been cleared (webhook disabled) while we were sending.
        if (doc.queue[0] !== head) continue;
        doc.queue.splice(0, size);
        // After every attempt failed the batch goes to the back of the queue: no ordering.
        if (!delivered) doc.queue.push(...batch);
      }
    } finally {
      doc.sending = false;
      this.#idle.dispatchEvent(new Event("idle"));
    }
  }

  async #deliver(doc: Doc, webhookId: string, batch: QueuedEvent[]): Promise<boolean> {
    const webhook = doc.webhooks.find((w) => w.id === webhookId);
    const rows = batch.map((e) => e.payload);
    if (!webhook) return true;
    const { url, authorization } = webhook.fields;
    if (this.#dropBudget > 0) {
      this.#dropBudget--;
      this.deliveries.push({ webhookId, url, rows, attempt: 0, outcome: "dropped" });
      return true;
    }
    if (!isWebhookUrlAllowed(url, this.allowedWebhookDomains)) {
      // Checked again at send time; a refused URL counts as delivered (§1.5).
      this.deliveries.push({ webhookId, url, rows, attempt: 0, outcome: "url-not-allowed" });
      return true;
    }
    let wait = 1;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const result = await this.#post(url, authorization, JSON.stringify(rows));
      if (this.#stop.signal.aborted) return false;
      const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
      this.deliveries.push({
        webhookId,
        url,
        rows,
        attempt,
        outcome: ok ? "success" : "failure",
        ...result,
      });
      webhook.lastEventBatch = {
        status: ok ? "success" : "failure",
        httpStatus: result.status ?? null,
        errorMessage: result.error ?? null,
        size: rows.length,
        attempts: attempt,
      };
      if (ok) return true;
      if (attempt < this.#maxAttempts) await this.#sleep(wait * this.#waitDelayMs);
      wait = Math.min(wait * 2, MAX_WAIT_UNITS);
    }
    return false;
  }

  /** POST as node-fetch 2.6.7 does it for Grist: same headers, same order, no timeout. */
  #post(
    url: string,
    authorization: string,
    body: string,
  ): Promise<{ status?: number; error?: string }> {
    const target = new URL(url);
    const headers: string[] = ["Content-Type", "application/json"];
    if (authorization) headers.push("Authorization", authorization);
    headers.push(
      "Accept",
      "*/*",
      "Content-Length",
      String(Buffer.byteLength(body)),
      "User-Agent",
      "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
      "Accept-Encoding",
      "gzip,deflate",
      "Connection",
      "close",
      "Host",
      target.host,
    );
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = send(target, { method: "POST", headers, agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (text.length < 1000) text += chunk;
        });
        res.on("end", () => {
          this.#outgoing.delete(req);
          const status = res.statusCode ?? 0;
          resolve(status >= 200 && status < 300 ? { status } : { status, error: text });
        });
      });
      this.#outgoing.add(req);
      req.on("error", (error) => {
        this.#outgoing.delete(req);
        resolve({ error: error.message });
      });
      req.end(body);
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#stop.signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      this.#stop.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** The texts of Grist's `assertAccess`. */
function requireRole(role: DocRole | null, wanted: DocRole): void {
  if (!role) throw new HttpError(403, "No view access");
  if (ROLE_RANK[role] < ROLE_RANK[wanted]) {
    throw new HttpError(403, wanted === "owners" ? "No owner access" : "No write access");
  }
}

function recordsOf(body: unknown): Array<{ id?: unknown; fields?: Row }> {
  const records = (body as { records?: unknown })?.records;
  if (!Array.isArray(records) || records.length === 0) throw new HttpError(400, "Invalid payload");
  return records;
}

function columnsOf(body: unknown): Array<{ id: string; fields?: Record<string, unknown> }> {
  const columns = (body as { columns?: unknown })?.columns;
  if (!Array.isArray(columns)) return [];
  return columns.filter((c) => typeof c?.id === "string");
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "request entity too large");
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "Unexpected token in JSON");
  }
}

/** Starts a double on an ephemeral port. */
/**
 * Grist's data engine restamps a trigger-formula data column (grist.md §9) when the row
 * changes, unless the change wrote that column itself (a value written by hand is kept).
 * [double] only the formula `NOW()` is evaluated: epoch seconds with a fraction.
 */
function stampTriggers(
  table: Table,
  values: Row,
  written: Set<string>,
  recalcWhen: readonly number[],
): void {
  for (const column of table.columns) {
    if (column.isFormula || column.formula.trim() !== "NOW()") continue;
    if (!recalcWhen.includes(column.recalcWhen) || written.has(column.id)) continue;
    values[column.id] = Date.now() / 1000;
    written.add(column.id);
  }
}

export async function startGristDouble(options: GristDoubleOptions): Promise<GristDouble> {
  return new GristDouble(options).listen();
}

export interface RecordedRequest {
  method: string;
  /** Path with query string. */
  path: string;
  /** Raw headers in the order received. */
  headers: Array<[string, string]>;
  body: string;
}

export interface WebhookRecorder {
  url: string;
  readonly requests: RecordedRequest[];
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

/**
 * A receiver that records every request, like the one the fixtures were captured with.
 * `respond` picks the status per request (default 200).
 */
export async function startWebhookRecorder(
  respond: (request: RecordedRequest, index: number) => number = () => 200,
): Promise<WebhookRecorder> {
  const requests: RecordedRequest[] = [];
  const arrived = new EventTarget();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Array<[string, string]> = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      headers.push([req.rawHeaders[i] ?? "", req.rawHeaders[i + 1] ?? ""]);
    }
    const request: RecordedRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    requests.push(request);
    res.writeHead(respond(request, requests.length - 1)).end();
    arrived.dispatchEvent(new Event("request"));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    requests,
    async waitFor(count) {
      while (requests.length < count) await once(arrived, "request");
      return requests.slice(0, count);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
