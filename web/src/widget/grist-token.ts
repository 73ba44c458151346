/**
 * Relay tokens for the widget when the relay requires authentication: Grist gives the widget a
 * short-lived document token (`getAccessToken`, needs full access), which the relay exchanges at
 * `POST /auth/grist` for its own JWT after checking it against Grist.
 */
import type { TokenSource } from "../net/relay-api.ts";
import type { AccessTokenResult } from "./grist-types.ts";

export interface GristTokenSourceOptions {
  getAccessToken(): Promise<AccessTokenResult>;
  exchangeUrl: URL;
  /** Called with the time (ms) from which each new relay token should be replaced. */
  onNewToken?(refreshAt: number): void;
}

export interface GristTokenSource {
  /** The current relay token, exchanged anew when close to expiry. */
  get: TokenSource;
  /** Forgets the cached token (the relay said it expired). */
  invalidate(): void;
}

/** The relay refused to trade Grist's token: `status` says why (403: not this document's user). */
export class TokenExchangeError extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`échange du jeton Grist refusé (${status})`);
    this.name = "TokenExchangeError";
    this.status = status;
  }
}

/** Refresh this long before expiry (or at 80 % of a short lifetime). */
function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(60_000, lifetimeMs * 0.2);
}

export function createGristTokenSource(options: GristTokenSourceOptions): GristTokenSource {
  let cached: { token: string; refreshAt: number } | null = null;
  let pending: Promise<string | null> | null = null;

  async function exchange(): Promise<string | null> {
    const grist = await options.getAccessToken();
    const response = await fetch(options.exchangeUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ gristToken: grist.token, baseUrl: grist.baseUrl }),
      cache: "no-store",
      signal: AbortSignal.timeout(15_000),
    });
    if (!response.ok) throw new TokenExchangeError(response.status);
    const body: unknown = await response.json();
    const token = (body as { token?: unknown }).token;
    const expiresIn = (body as { expiresInSeconds?: unknown }).expiresInSeconds;
    if (typeof token !== "string" || !token) throw new Error("réponse d'échange sans jeton");
    const lifetimeMs = typeof expiresIn === "number" && expiresIn > 0 ? expiresIn * 1000 : 60_000;
    const now = Date.now();
    cached = { token, refreshAt: now + lifetimeMs - refreshMarginMs(lifetimeMs) };
    options.onNewToken?.(cached.refreshAt);
    return token;
  }

  return {
    get() {
      if (cached && Date.now() < cached.refreshAt) return Promise.resolve(cached.token);
      // Concurrent callers (stream, history, status) share one exchange.
      pending ??= exchange().finally(() => {
        pending = null;
      });
      return pending;
    },
    invalidate() {
      cached = null;
    },
  };
}
