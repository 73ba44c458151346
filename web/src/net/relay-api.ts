/** JSON calls to the relay, with the subscriber's token as a Bearer header when there is one. */

export type TokenSource = () => Promise<string | null>;

export interface JsonAnswer {
  status: number;
  body: unknown;
}

export interface RelayApi {
  /** Absolute URL of a relay path ("api/events", "events"), resolved against the relay base. */
  url(path: string): URL;
  getJson(path: string, options?: { signal?: AbortSignal }): Promise<JsonAnswer>;
  tokenSource: TokenSource;
}

/** Bound on every JSON call: a hung relay must not leave a spinner forever. */
const REQUEST_TIMEOUT_MS = 15_000;

export function createRelayApi(base: URL, tokenSource: TokenSource): RelayApi {
  const url = (path: string) => new URL(path, base);
  return {
    url,
    tokenSource,
    async getJson(path, options = {}) {
      const token = await tokenSource().catch(() => null);
      const headers: Record<string, string> = { Accept: "application/json" };
      if (token) headers.Authorization = `Bearer ${token}`;
      const signals = [AbortSignal.timeout(REQUEST_TIMEOUT_MS)];
      if (options.signal) signals.push(options.signal);
      const response = await fetch(url(path), {
        headers,
        // The token travels in the header only; no ambient cookie is needed.
        credentials: "same-origin",
        cache: "no-store",
        signal: AbortSignal.any(signals),
      });
      const body: unknown = await response.json().catch(() => null);
      return { status: response.status, body };
    },
  };
}
