/**
 * Every error the relay answers with has a stable code, an HTTP status and a French message,
 * listed in docs/reference/erreurs.md. Routes throw `RelayError`; the HTTP layer turns it into
 * `{"error": {"code", "message"}}`.
 */
export const ERROR_CODES = {
  RELAY_ERR_BAD_JSON: 400,
  RELAY_ERR_BAD_PAYLOAD: 400,
  RELAY_ERR_BAD_QUERY: 400,
  /** The request could not be parsed as HTTP (Node's parser refused it). */
  RELAY_ERR_BAD_REQUEST: 400,
  /** `POST /auth/session`: a token longer than a browser keeps in a cookie. */
  RELAY_ERR_TOKEN_TOO_LONG_FOR_COOKIE: 400,
  RELAY_ERR_UNAUTHORIZED: 401,
  RELAY_ERR_WEBHOOK_SECRET: 401,
  RELAY_ERR_FORBIDDEN: 403,
  RELAY_ERR_NOT_FOUND: 404,
  RELAY_ERR_ALERT_NOT_FOUND: 404,
  RELAY_ERR_ALERT_NOT_FAILED: 409,
  RELAY_ERR_REQUEST_TIMEOUT: 408,
  RELAY_ERR_EVENT_ID_GONE: 410,
  /** The id comes from another history of the store (replaced or wiped): reload the state. */
  RELAY_ERR_EVENT_ID_FOREIGN: 410,
  RELAY_ERR_BODY_TOO_LARGE: 413,
  RELAY_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  RELAY_ERR_HEADERS_TOO_LARGE: 431,
  RELAY_ERR_TOO_MANY_STREAMS: 429,
  RELAY_ERR_RATE_LIMITED: 429,
  RELAY_ERR_INTERNAL: 500,
  RELAY_ERR_STORE_UNAVAILABLE: 503,
  RELAY_ERR_SHUTTING_DOWN: 503,
  RELAY_ERR_CAPACITY: 503,
  /** web/dist is missing: the dashboard was not built (`npm run build:web`). */
  RELAY_ERR_WEB_NOT_BUILT: 503,
  RELAY_ERR_GRIST_UNREACHABLE: 502,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export class RelayError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** Seconds, sent as `Retry-After` when set. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(message, { cause: options?.cause });
    this.name = "RelayError";
    this.code = code;
    this.statusCode = ERROR_CODES[code];
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  toBody(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}
