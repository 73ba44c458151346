/**
 * Standalone mode: hands the token to the relay (`POST /auth/session`, in the Authorization
 * header) so it comes back as an HttpOnly cookie, and `/events` can open without `?token=` in
 * a URL that reverse proxies log. The widget does not use this: inside Grist's iframe the
 * relay's cookie is a third-party cookie that browsers block (docs/securite.md).
 */

/** What the relay answered. */
export type SessionOutcome =
  /** The cookie is set: connect without the token in the URL. */
  | "open"
  /** The relay refused the token itself (401/403): sending it in a URL would fail the same way. */
  | "refused"
  /** No session here (older relay, auth off, token too long for a cookie, network): use the URL. */
  | "unavailable";

/** A session answer must not hold back the stream for long: the URL still works. */
const SESSION_TIMEOUT_MS = 5_000;

export async function openCookieSession(sessionUrl: URL, token: string): Promise<SessionOutcome> {
  try {
    const response = await fetch(sessionUrl, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
      // Same origin only: the page and the relay are one site, as the cookie requires.
      credentials: "same-origin",
      cache: "no-store",
      signal: AbortSignal.timeout(SESSION_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.ok) return "open";
    return response.status === 401 || response.status === 403 ? "refused" : "unavailable";
  } catch {
    return "unavailable";
  }
}
