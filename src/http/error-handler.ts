/** Every error leaves the relay as `{"error": {"code", "message"}}` with the right status. */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance } from "fastify";
import { type ErrorCode, RelayError } from "../errors.ts";
import { StoreUnavailableError } from "../store/store-unavailable.ts";

/** Fastify's own errors (body parsing, limits) mapped onto the relay's codes. */
const FASTIFY_CODES: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    "RELAY_ERR_UNSUPPORTED_MEDIA_TYPE",
    "Content-Type attendu : application/json",
  ],
  FST_ERR_CTP_BODY_TOO_LARGE: ["RELAY_ERR_BODY_TOO_LARGE", "corps de requête trop volumineux"],
  FST_ERR_CTP_EMPTY_JSON_BODY: ["RELAY_ERR_BAD_JSON", "corps JSON vide"],
  FST_ERR_CTP_INVALID_JSON_BODY: [
    "RELAY_ERR_BAD_JSON",
    "le corps n'est pas du JSON valide (ou contient une clé __proto__ ou constructor, refusée)",
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ["RELAY_ERR_BAD_PAYLOAD", "Content-Length invalide"],
};

export function toRelayError(error: FastifyError | Error): RelayError {
  if (error instanceof RelayError) return error;
  if (error instanceof StoreUnavailableError) {
    // The one place a store outage becomes HTTP: nothing was acknowledged, retry soon.
    return new RelayError(
      "RELAY_ERR_STORE_UNAVAILABLE",
      "stockage indisponible ; réessayez dans quelques secondes",
      { retryAfterSeconds: 5, cause: error },
    );
  }
  const fastify = error as FastifyError;
  const mapped = fastify.code ? FASTIFY_CODES[fastify.code] : undefined;
  if (mapped) return new RelayError(mapped[0], mapped[1], { cause: error });
  if (fastify.statusCode === 400 && error instanceof SyntaxError) {
    return new RelayError("RELAY_ERR_BAD_JSON", `JSON invalide : ${error.message}`, {
      cause: error,
    });
  }
  if (fastify.statusCode && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    // secure-json-parse refuses __proto__ keys with a 400: say what was refused.
    return new RelayError("RELAY_ERR_BAD_PAYLOAD", error.message, { cause: error });
  }
  return new RelayError("RELAY_ERR_INTERNAL", "erreur interne du relais", { cause: error });
}

/** Refusals an operator needs to trace back to a client: authentication and limits. */
const LOGGED_REFUSALS = new Set<ErrorCode>([
  "RELAY_ERR_UNAUTHORIZED",
  "RELAY_ERR_WEBHOOK_SECRET",
  "RELAY_ERR_FORBIDDEN",
  "RELAY_ERR_TOO_MANY_STREAMS",
  "RELAY_ERR_RATE_LIMITED",
  "RELAY_ERR_CAPACITY",
]);

const answeredCodes = new WeakMap<object, ErrorCode>();

/** The error code a reply was answered with, for metrics labels. */
export function answeredCode(reply: object): ErrorCode | undefined {
  return answeredCodes.get(reply);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const relayError = toRelayError(error);
    if (
      relayError.statusCode >= 500 &&
      relayError.code !== "RELAY_ERR_SHUTTING_DOWN" &&
      relayError.code !== "RELAY_ERR_STORE_UNAVAILABLE"
    ) {
      request.log.error({ err: error }, "request failed");
    }
    if (LOGGED_REFUSALS.has(relayError.code)) {
      // Who was refused, by address (after TRUST_PROXY); never the URL nor the headers, which
      // may carry a token or the webhook secret.
      request.log.info({ client: request.ip, code: relayError.code }, "request refused");
    }
    answeredCodes.set(reply, relayError.code);
    // Refused before its body was read (no secret, too large, bad type): Node would otherwise
    // read and discard the rest to keep the connection alive, so a sender could keep a socket
    // busy for as long as it trickles. Closing after the answer costs the sender, not the relay.
    const hasBody =
      request.headers["transfer-encoding"] !== undefined ||
      Number(request.headers["content-length"] ?? 0) > 0;
    if (hasBody && !request.raw.complete) reply.header("Connection", "close");
    if (relayError.retryAfterSeconds !== undefined)
      reply.header("Retry-After", String(relayError.retryAfterSeconds));
    reply.code(relayError.statusCode).send(relayError.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(
        new RelayError(
          "RELAY_ERR_NOT_FOUND",
          `aucune route ${request.method} ${request.url.split("?")[0]}`,
        ).toBody(),
      );
  });
}

/** Errors Node's HTTP parser reports before Fastify sees a request, as (status, code, message). */
function clientErrorAnswer(error: NodeJS.ErrnoException): [number, ErrorCode, string] {
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT")
    return [408, "RELAY_ERR_REQUEST_TIMEOUT", "requête non reçue en entier à temps"];
  if (error.code === "HPE_HEADER_OVERFLOW")
    return [431, "RELAY_ERR_HEADERS_TOO_LARGE", "en-têtes trop volumineux"];
  return [400, "RELAY_ERR_BAD_REQUEST", "requête HTTP mal formée"];
}

/**
 * Fastify's `clientErrorHandler`: HTTP parse errors and request timeouts answered with the
 * relay's error body, then the connection closed (its parser state is unusable).
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const message = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  // A response already started cannot be replaced: only the connection can go.
  if (!socket.writable || message?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, code, text] = clientErrorAnswer(error);
  const body = JSON.stringify(new RelayError(code, text).toBody());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // end() waits for the peer only for the write; a client that never reads must not hold it.
  setTimeout(() => socket.destroy(), 1000).unref();
}
