/**
 * The one error a store throws when its backing service cannot serve a call right now (Redis
 * unreachable or not answering in time, disk full). Stores know nothing of HTTP: the HTTP
 * layer turns it into 503 `RELAY_ERR_STORE_UNAVAILABLE` with `Retry-After`, in one place
 * (src/http/error-handler.ts).
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}
