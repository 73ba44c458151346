/**
 * Webhook sending of the double, as Grist's Triggers.ts and DocTriggers do it: one queue and
 * one send loop per document (head-of-line blocking), batches of up to 100 consecutive events
 * of one webhook, flat rows, headers in node-fetch's order, retries after 1, 2, 4 … 64 units.
 */
import { once } from "node:events";
import { type ClientRequest, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import {
  BATCH_SIZE,
  type DeliveryLogEntry,
  type Doc,
  MAX_WAIT_UNITS,
  type QueuedEvent,
  type Table,
} from "./model.ts";
import { payload, type TriggerAction } from "./records.ts";
import { isWebhookUrlAllowed } from "./webhook-url.ts";

export interface DeliveryOptions {
  /** GRIST_TRIGGER_WAIT_DELAY: the unit of retry backoff and idle delay. */
  waitDelayMs: number;
  /** GRIST_TRIGGER_MAX_ATTEMPTS. */
  maxAttempts: number;
  /** ALLOWED_WEBHOOK_DOMAINS, read at send time (a test may change it). */
  allowedDomains: () => string | undefined;
  /** Every POST attempt (and every dropped batch) is appended here, in order. */
  log: DeliveryLogEntry[];
}

export class WebhookDelivery {
  readonly #options: DeliveryOptions;
  readonly #outgoing = new Set<ClientRequest>();
  readonly #stop = new AbortController();
  readonly #idle = new EventTarget();
  #dropBudget = 0;

  constructor(options: DeliveryOptions) {
    this.#options = options;
  }

  /** The next `n` batches are discarded instead of sent. */
  dropNext(n: number): void {
    this.#dropBudget += n;
  }

  /** Resolves once every document's queue is empty and no batch is being sent. */
  async whenIdle(docs: Iterable<Doc>): Promise<void> {
    while ([...docs].some((d) => d.sending || d.queue.length > 0)) {
      await once(this.#idle, "idle");
    }
  }

  close(): void {
    this.#stop.abort();
    for (const req of this.#outgoing) req.destroy();
  }

  /**
   * Queues one write's events: for each webhook in turn, its rows of every action of the bundle
   * (so an upsert's update and add reach an add+update webhook in one batch).
   */
  trigger(doc: Doc, table: Table, actions: TriggerAction[]): void {
    for (const webhook of doc.webhooks) {
      const f = webhook.fields;
      if (!f.enabled || f.tableId !== table.id) continue;
      for (const { kind, rowIds, changed: changedColumns } of actions) {
        if (!f.eventTypes.includes(kind)) continue;
        for (const id of rowIds) {
          const changed = changedColumns.get(id);
          // watchedColIds filters updates only (§1.4).
          if (kind === "update" && f.watchedColIds.length > 0 && changed) {
            if (!f.watchedColIds.some((c) => changed.has(c))) continue;
          }
          doc.queue.push({ webhookId: webhook.id, payload: payload(table, id) });
        }
      }
    }
    if (doc.queue.length > 0 && !doc.sending) void this.#sendLoop(doc);
  }

  async #sendLoop(doc: Doc): Promise<void> {
    doc.sending = true;
    try {
      // Grist's loop polls an idle queue every wait unit and is not woken by new events (§8).
      await this.#sleep(this.#options.waitDelayMs);
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
      this.#options.log.push({ webhookId, url, rows, attempt: 0, outcome: "dropped" });
      return true;
    }
    if (!isWebhookUrlAllowed(url, this.#options.allowedDomains())) {
      // Checked again at send time; a refused URL counts as delivered (§1.5).
      this.#options.log.push({ webhookId, url, rows, attempt: 0, outcome: "url-not-allowed" });
      return true;
    }
    let wait = 1;
    for (let attempt = 1; attempt <= this.#options.maxAttempts; attempt++) {
      const result = await this.#post(url, authorization, JSON.stringify(rows));
      if (this.#stop.signal.aborted) return false;
      const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
      this.#options.log.push({
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
      if (attempt < this.#options.maxAttempts) await this.#sleep(wait * this.#options.waitDelayMs);
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
