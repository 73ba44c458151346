/** Webhook management of the double: list, create, patch, delete, with Grist's checks. */
import { randomUUID } from "node:crypto";
import { type Doc, HttpError, type WebhookState } from "./model.ts";
import { findTable } from "./tables.ts";
import { isWebhookUrlAllowed } from "./webhook-url.ts";

export function listWebhooks(doc: Doc): unknown {
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

function validateWebhook(
  doc: Doc,
  fields: Record<string, unknown>,
  creating: boolean,
  allowedDomains: string | undefined,
): void {
  if (creating && typeof fields.url !== "string") throw new HttpError(400, "Missing url");
  if (fields.url !== undefined && !isWebhookUrlAllowed(String(fields.url), allowedDomains)) {
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
    const table = findTable(doc, String(fields.tableId));
    for (const col of (fields.watchedColIds as string[] | undefined) ?? []) {
      const id = col.replace(/^\$/, "");
      if (!table.columns.some((c) => c.id === id))
        throw new HttpError(404, `Column not found "${id}"`);
    }
  }
}

export function addWebhooks(doc: Doc, body: unknown, allowedDomains: string | undefined): unknown {
  const specs = (body as { webhooks?: Array<{ fields?: Record<string, unknown> }> })?.webhooks;
  if (!Array.isArray(specs)) throw new HttpError(400, "Invalid payload");
  for (const spec of specs) validateWebhook(doc, spec.fields ?? {}, true, allowedDomains);
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

export function patchWebhook(
  doc: Doc,
  webhookId: string | undefined,
  body: unknown,
  allowedDomains: string | undefined,
): unknown {
  const webhook = doc.webhooks.find((w) => w.id === webhookId);
  if (!webhook) throw new HttpError(404, `Webhook not found "${webhookId}"`);
  const patch = (body ?? {}) as Record<string, unknown>;
  validateWebhook(doc, patch, false, allowedDomains);
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

export function deleteWebhook(doc: Doc, webhookId: string | undefined): unknown {
  const index = doc.webhooks.findIndex((w) => w.id === webhookId);
  if (index < 0) throw new HttpError(404, `Webhook not found "${webhookId}"`);
  doc.webhooks.splice(index, 1);
  doc.queue = doc.queue.filter((e) => e.webhookId !== webhookId);
  return { success: true };
}
