/** Every error leaves the relay as `{"error": {"code", "message"}}` with the right status. */
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
    answeredCodes.set(reply, relayError.code);
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
