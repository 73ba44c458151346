/**
 * A failed matrix-js-sdk send, in the relay's delivery terms: the same kinds and French reasons
 * as the direct `PUT /send` path, so the dispatcher retries both the same way.
 */
import { type DeliveryFailure, failure, remoteText } from "../delivery.ts";

interface SdkError {
  name?: string;
  message?: string;
  httpStatus?: number;
  errcode?: string;
  data?: { error?: unknown };
  isRateLimitError?: () => boolean;
  getRetryAfterMs?: () => number | null;
}

export function sendErrorToFailure(error: unknown): DeliveryFailure {
  const sdk = (error ?? {}) as SdkError;
  const status = typeof sdk.httpStatus === "number" ? sdk.httpStatus : null;
  if (status === null) {
    // ConnectionError, timeouts, and crypto errors raised before any request left.
    const detail = remoteText(sdk.message) ?? "erreur inconnue";
    if (sdk.name === "ConnectionError") {
      return failure("network", `erreur réseau : ${detail}`, { retryable: true });
    }
    return failure("server", `échec du chiffrement ou de l'envoi : ${detail}`, {
      retryable: true,
    });
  }
  const errcode = typeof sdk.errcode === "string" ? sdk.errcode : "";
  const what = `${status}${errcode ? ` ${errcode}` : ""}${
    remoteText(sdk.data?.error) ? ` : ${remoteText(sdk.data?.error)}` : ""
  }`;
  if (status === 429 || sdk.isRateLimitError?.()) {
    let retryAfterMs: number | null = null;
    try {
      retryAfterMs = sdk.getRetryAfterMs?.() ?? null;
    } catch {
      // getRetryAfterMs throws on a malformed Retry-After: treat it as absent.
    }
    return failure("rate-limited", `limité par le serveur (${what})`, {
      retryable: true,
      retryAfterMs,
      status,
    });
  }
  if (status === 401 || errcode === "M_UNKNOWN_TOKEN" || errcode === "M_MISSING_TOKEN") {
    return failure("bad-token", `jeton invalide (${what})`, { status });
  }
  if (status === 403 || status === 404) {
    return failure("unknown-room", `salon inconnu ou bot non membre (${what})`, { status });
  }
  if (status >= 500 || status === 408) {
    return failure("server", `erreur du serveur (${what})`, { retryable: true, status });
  }
  return failure("rejected", `requête refusée (${what})`, { status });
}
