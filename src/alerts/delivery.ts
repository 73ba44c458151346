/**
 * What one delivery attempt of an alert came to, whatever the destination, and the small HTTP
 * helpers both senders share to classify an answer without trusting it.
 */

/** Why an attempt failed, in words the CLI and `/api/alerts` can explain to an operator. */
export type FailureKind =
  | "bad-token"
  | "unknown-room"
  | "rate-limited"
  | "network"
  | "server"
  | "rejected"
  | "bad-payload";

export type DeliveryOutcome =
  | {
      ok: true;
      /** What the receiver gave back: a Matrix event id, or the HTTP status of a webhook. */
      detail: string;
    }
  | {
      ok: false;
      kind: FailureKind;
      /** True when the same request may succeed later (rate limit, 5xx, network). */
      retryable: boolean;
      /** French, safe to log and to show to an admin: never holds a secret. */
      message: string;
      /** Delay announced by the receiver (Retry-After, retry_after_ms), in ms. */
      retryAfterMs: number | null;
      status: number | null;
    };

export type DeliveryFailure = Extract<DeliveryOutcome, { ok: false }>;

export function failure(
  kind: FailureKind,
  message: string,
  extra: { retryable?: boolean; retryAfterMs?: number | null; status?: number | null } = {},
): DeliveryFailure {
  return {
    ok: false,
    kind,
    message,
    retryable: extra.retryable ?? false,
    retryAfterMs: extra.retryAfterMs ?? null,
    status: extra.status ?? null,
  };
}

// Kept here too because the Matrix client imports it from this module.
export { parseRetryAfter } from "../retry/retry-after.ts";

/** Answers bigger than this are not read: only a short JSON error is ever expected back. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;

/**
 * Reads at most 16 KiB of an answer and parses it as a JSON object; anything else gives `{}`.
 * A hostile or broken server cannot make the relay buffer an unbounded body.
 */
export async function readSmallJson(response: Response): Promise<Record<string, unknown>> {
  if (!response.body) return {};
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= MAX_ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    return {};
  } finally {
    await reader.cancel().catch(() => {});
  }
  if (size > MAX_ERROR_BODY_BYTES) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/**
 * Redirects are refused, not followed: the request carries a token or a signature meant for
 * the configured host only, and the operator should configure the final URL anyway.
 */
export async function redirectFailure(response: Response): Promise<DeliveryFailure> {
  await discardBody(response);
  return failure(
    "rejected",
    `redirection refusée (${response.status}) : indiquez l'URL finale dans la configuration`,
    { status: response.status },
  );
}

/** Drops the answer body without reading it, so the socket goes back to the pool. */
export async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

/**
 * Text that came from a remote server, made fit for a log line or an admin page: control and
 * bidi characters replaced, length bounded.
 */
export function remoteText(value: unknown, maxChars = 200): string | null {
  if (typeof value !== "string" || value === "") return null;
  const clean = value.replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, " ").trim();
  return clean.length > maxChars ? `${clean.slice(0, maxChars)}…` : clean;
}

/** Describes a fetch failure without its URL (a webhook URL may carry a token in its query). */
export function networkFailure(error: unknown, timeoutMs: number): DeliveryFailure {
  const name = error instanceof Error ? error.name : "";
  if (name === "TimeoutError" || name === "AbortError") {
    return failure("network", `délai dépassé (${Math.round(timeoutMs / 1000)} s sans réponse)`, {
      retryable: true,
    });
  }
  // The cause names the system error (ECONNREFUSED, ENOTFOUND host…), never the full URL.
  const cause = error instanceof Error ? (error.cause as Error | undefined) : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const what =
    typeof code === "string" ? code : (remoteText(cause?.message, 100) ?? "connexion impossible");
  return failure("network", `erreur réseau : ${what}`, { retryable: true });
}
