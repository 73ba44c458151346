/**
 * Test double of a Grist 1.7.17 server, for the endpoints the relay uses. Every behaviour comes
 * from the project's Grist reference and the captures in test/fixtures/grist (checked by
 * grist-double.test.ts). This file holds the server: identification, roles, routing and the
 * test hooks; each concern has its own file beside it:
 * - model.ts: state, error shape, roles; tokens.ts: access tokens (`?auth=`);
 * - tables.ts: tables and columns (`ID` becomes `ID2`, `widgetOptions` as a JSON string);
 * - records.ts: GET/POST/PATCH/PUT records, `records/delete`, the events each write makes;
 * - webhooks.ts: webhooks CRUD with `ALLOWED_WEBHOOK_DOMAINS` (webhook-url.ts), owners only;
 * - delivery.ts: the per-document send loop, batches, headers, retries; no delete event;
 * - recorder.ts: a receiver that records what the double (or Grist) sends.
 * Test hooks: `dropNextDeliveries`, `deleteRow`, `failNextRequests`, `pauseRequests`, and the
 * `writes` and `deliveries` logs. Differences from Grist are marked "[double]".
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebhookDelivery } from "./delivery.ts";
import {
  type AccessTokenResult,
  type DeliveryLogEntry,
  type Doc,
  type DocRole,
  type GristDoubleOptions,
  HttpError,
  type Identity,
  type Row,
  recordsOf,
  requireRole,
  type WriteLogEntry,
} from "./model.ts";
import {
  addRecords,
  getRecords,
  patchRecords,
  payload,
  updateRecords,
  upsertRecords,
} from "./records.ts";
import {
  addColumn,
  addTables,
  createTable,
  findTable,
  listColumns,
  listTables,
  patchColumns,
  postColumns,
} from "./tables.ts";
import { mintAccessToken, verifyAccessToken } from "./tokens.ts";
import { addWebhooks, deleteWebhook, listWebhooks, patchWebhook } from "./webhooks.ts";

export type {
  AccessTokenResult,
  DeliveryLogEntry,
  DocRole,
  DoubleDocOptions,
  GristDoubleOptions,
  Row,
  WriteLogEntry,
} from "./model.ts";
export type { RecordedRequest, WebhookRecorder } from "./recorder.ts";
export { startWebhookRecorder } from "./recorder.ts";
export { isWebhookUrlAllowed } from "./webhook-url.ts";

const MAX_BODY_BYTES = 1024 * 1024;

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
  readonly #maxParallel: number;
  readonly #notConfigured: boolean;
  readonly #server: Server;
  readonly #delivery: WebhookDelivery;
  readonly #trigger: WebhookDelivery["trigger"];
  #faults: Array<{ status: number; error: string }> = [];
  #pause: Promise<void> | null = null;
  #url = "";

  constructor(options: GristDoubleOptions) {
    this.#apiKeys = new Set(options.apiKeys);
    for (const [index, key] of options.apiKeys.entries()) this.#userIds.set(key, index + 1);
    this.allowedWebhookDomains = options.allowedWebhookDomains;
    this.#delivery = new WebhookDelivery({
      waitDelayMs: options.waitDelayMs ?? 1000,
      maxAttempts: options.maxAttempts ?? 20,
      allowedDomains: () => this.allowedWebhookDomains,
      log: this.deliveries,
    });
    this.#trigger = (doc, table, actions) => this.#delivery.trigger(doc, table, actions);
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
        nextTableRef: 1,
        nextColRef: 1,
      });
    }
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(error) });
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
    this.#delivery.close();
    this.#pause = null;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---- test hooks --------------------------------------------------------------------------

  /** The next `n` batches are discarded instead of sent, as when Grist's memory queue is lost. */
  dropNextDeliveries(n: number): void {
    this.#delivery.dropNext(n);
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
    await this.#delivery.whenIdle(this.#docs.values());
  }

  /** Creates a table as the Grist UI would (no webhook); returns the real column ids. */
  createTable(
    docId: string,
    tableId: string,
    columns: Array<{ id: string; label?: string; type?: string; widgetOptions?: string }>,
  ): string[] {
    const doc = this.#doc(docId);
    const table = createTable(doc, tableId);
    return columns.map((c) => addColumn(doc, table, c.id, c).id);
  }

  /** Adds rows as a user edit would: `add` webhooks fire. Returns the new row ids. */
  addRows(docId: string, tableId: string, rows: Row[]): number[] {
    const doc = this.#doc(docId);
    return addRecords(this.#trigger, doc, findTable(doc, tableId), rows);
  }

  /** Changes one row as a user edit would: `update` webhooks fire if a value changed. */
  updateRow(docId: string, tableId: string, rowId: number, fields: Row): void {
    const doc = this.#doc(docId);
    const table = findTable(doc, tableId);
    this.#trigger(doc, table, updateRecords(table, [{ id: rowId, fields }]));
  }

  /** Deletes a row. Grist has no delete webhook (§1.4), so nothing is sent. */
  deleteRow(docId: string, tableId: string, rowId: number): void {
    findTable(this.#doc(docId), tableId).rows.delete(rowId);
  }

  /** Current rows as a webhook would carry them. */
  rows(docId: string, tableId: string): Row[] {
    const table = findTable(this.#doc(docId), tableId);
    return [...table.rows.keys()].map((id) => payload(table, id));
  }

  /** What `grist.getAccessToken()` gives a widget of this user (`ttlMs` < 0: already expired). */
  mintAccessToken(
    docId: string,
    apiKey: string,
    options: { readOnly?: boolean; ttlMs?: number } = {},
  ): AccessTokenResult {
    return mintAccessToken(this.#doc(docId), this.#userIds.get(apiKey) ?? 0, this.#url, options);
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
      sendJson(res, 200, result);
    } catch (error) {
      status = error instanceof HttpError ? error.status : 500;
      sendJson(res, status, { error: error instanceof Error ? error.message : String(error) });
    } finally {
      if (doc) doc.inFlight--;
      if (method !== "GET") this.writes.push({ method, path: url.pathname, body, status });
    }
  }

  #identify(req: IncomingMessage, url: URL): Identity {
    const token = url.searchParams.get("auth");
    if (token) return verifyAccessToken(token, this.#docs, this.#userIds);
    const header = req.headers.authorization;
    if (header === undefined) return { apiKey: null };
    const [scheme, key] = header.split(" ");
    if (scheme !== "Bearer") {
      throw new HttpError(401, "Bad request: unsupported Authorization scheme, expected 'Bearer'");
    }
    if (!key || !this.#apiKeys.has(key)) throw new HttpError(401, "Bad request: invalid API key");
    return { apiKey: key };
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
    const table = () => findTable(doc, name ?? "");
    switch (route) {
      case "GET webhooks":
        return listWebhooks(doc);
      case "POST webhooks":
        return addWebhooks(doc, body, this.allowedWebhookDomains);
      case "PATCH webhooks/*":
        return patchWebhook(doc, name, body, this.allowedWebhookDomains);
      case "DELETE webhooks/*":
        return deleteWebhook(doc, name);
      case "GET tables":
        return listTables(doc);
      case "POST tables":
        return addTables(doc, body);
      case "GET tables/*/columns":
        return listColumns(table());
      case "POST tables/*/columns":
        return postColumns(doc, table(), body);
      case "PATCH tables/*/columns":
        return patchColumns(table(), body);
      case "GET tables/*/records":
        return getRecords(table(), query);
      case "POST tables/*/records": {
        const ids = addRecords(
          this.#trigger,
          doc,
          table(),
          recordsOf(body).map((r) => r.fields ?? {}),
        );
        return { records: ids.map((id) => ({ id })) };
      }
      case "PATCH tables/*/records":
        return patchRecords(this.#trigger, doc, table(), body);
      case "PUT tables/*/records":
        return upsertRecords(this.#trigger, doc, table(), body);
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

  #doc(docId: string): Doc {
    const doc = this.#docs.get(docId);
    if (!doc) throw new Error(`unknown doc ${docId}`);
    return doc;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
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
export async function startGristDouble(options: GristDoubleOptions): Promise<GristDouble> {
  return new GristDouble(options).listen();
}
