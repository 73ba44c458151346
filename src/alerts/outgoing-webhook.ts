/**
 * Signed outgoing webhooks: a JSON POST the receiver can authenticate, which Grist's own
 * webhooks cannot offer. The signature covers the timestamp and the exact body bytes:
 *
 *   X-Grist-Realtime-Timestamp: <unix seconds>
 *   X-Grist-Realtime-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 *   X-Grist-Realtime-Delivery:  <outbox key>   (same on every retry: deduplicate on it)
 *
 * Receivers check it with `verifySignature` (or its equivalent, see docs/alertes.md).
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import {
  type DeliveryFailure,
  type DeliveryOutcome,
  discardBody,
  failure,
  networkFailure,
  parseRetryAfter,
  redirectFailure,
} from "./delivery.ts";

export const TIMESTAMP_HEADER = "X-Grist-Realtime-Timestamp";
export const SIGNATURE_HEADER = "X-Grist-Realtime-Signature";
export const DELIVERY_HEADER = "X-Grist-Realtime-Delivery";
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signBody(secret: string, timestamp: string, body: string | Uint8Array): string {
  const hmac = createHmac("sha256", secret).update(`${timestamp}.`).update(body);
  return `sha256=${hmac.digest("hex")}`;
}

/**
 * True when `header` is the signature of `timestamp` + `body` under `secret` and the timestamp
 * is within `toleranceSeconds` of now (default 300), which bounds how long a captured request
 * can be replayed. `body` must be the raw bytes received, not a re-serialized object.
 */
export function verifySignature(
  secret: string,
  timestamp: string | null | undefined,
  body: string | Uint8Array,
  header: string | null | undefined,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  if (!timestamp || !header || !/^\d{1,12}$/.test(timestamp)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - Number(timestamp)) > tolerance) return false;
  // Hashing both sides gives equal-length buffers, so timingSafeEqual never throws and the
  // comparison time does not depend on where the strings first differ.
  const expected = createHash("sha256")
    .update(signBody(secret, timestamp, body))
    .digest();
  const received = createHash("sha256").update(header.trim()).digest();
  return timingSafeEqual(expected, received);
}

export interface OutgoingWebhookRequest {
  url: string;
  secret: string;
  /** The outbox key: receivers deduplicate retries on it. */
  deliveryKey: string;
  body: string;
}

export interface OutgoingWebhookOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  now?: () => number;
}

export async function sendOutgoingWebhook(
  request: OutgoingWebhookRequest,
  options: OutgoingWebhookOptions = {},
): Promise<DeliveryOutcome> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const nowMs = (options.now ?? Date.now)();
  const timestamp = String(Math.floor(nowMs / 1000));
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(request.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "grist-realtime",
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: signBody(request.secret, timestamp, request.body),
        [DELIVERY_HEADER]: request.deliveryKey,
      },
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return networkFailure(error, timeoutMs);
  }
  const { status } = response;
  if (status >= 300 && status < 400) return redirectFailure(response);
  await discardBody(response);
  if (response.ok) return { ok: true, detail: String(status) };
  return classifyRefusal(status, parseRetryAfter(response.headers.get("retry-after"), nowMs));
}

/**
 * Answers that say the *request* is wrong: sending it again cannot succeed, so the alert is
 * marked failed at once (an admin can retry it after fixing the receiver or the secret).
 * 401/403 are what a receiver answers when the signature does not verify.
 */
const FINAL_STATUSES = new Set([400, 401, 403, 410, 413, 422]);

/**
 * Every other refusal is retried: a receiver that is restarting answers 404 for seconds (n8n
 * does, before its webhooks are registered), a proxy 502/503/504, a busy one 409/425/429.
 * Losing an alert costs more than retrying one that could never pass.
 */
export function classifyRefusal(status: number, retryAfterMs: number | null): DeliveryFailure {
  if (status === 401 || status === 403) {
    return failure("bad-token", `signature refusée par le destinataire (${status})`, { status });
  }
  if (FINAL_STATUSES.has(status)) {
    return failure("rejected", `requête refusée par le destinataire (${status})`, { status });
  }
  if (status === 429) {
    return failure("rate-limited", `limité par le destinataire (${status})`, {
      retryable: true,
      retryAfterMs,
      status,
    });
  }
  const why =
    status === 404
      ? "adresse introuvable pour l'instant (404), le destinataire redémarre peut-être"
      : `erreur du destinataire (${status})`;
  return failure("server", why, { retryable: true, retryAfterMs, status });
}
