/** Where a subscriber's token may come from: header, `token` query parameter or cookie. */
import { RelayError } from "../errors.ts";

export const TOKEN_COOKIE = "grist_realtime_token";

/** Methods that change nothing on the relay: the only ones the cookie may authorise. */
const SAFE_METHODS = new Set(["GET", "HEAD"]);

export function tokenFromRequest(
  method: string,
  headers: Record<string, string | string[] | undefined>,
  query: Record<string, unknown>,
): string | null {
  const authorization = headers.authorization;
  if (typeof authorization === "string" && authorization.startsWith("Bearer "))
    return authorization.slice(7).trim();
  // EventSource cannot send headers: browsers pass the token in the URL (redacted in logs).
  if (typeof query.token === "string" && query.token !== "") return query.token;
  // CSRF: a browser attaches the cookie by itself, whoever wrote the request. SameSite=Strict
  // already keeps it off requests started by other sites; reading it on GET/HEAD only means
  // that even a request it slipped onto (an old browser, a same-site page on a sibling
  // subdomain) can read, never change anything: retries and other POSTs need the header.
  if (!SAFE_METHODS.has(method.toUpperCase())) return null;
  const cookie = headers.cookie;
  if (typeof cookie === "string") {
    for (const part of cookie.split(";")) {
      const [name, ...value] = part.trim().split("=");
      if (name !== TOKEN_COOKIE) continue;
      try {
        return decodeURIComponent(value.join("="));
      } catch (error) {
        // A stray `%` is the client's mistake (or a probe), not a relay fault: 401, no stack trace.
        throw new RelayError("RELAY_ERR_UNAUTHORIZED", "cookie de jeton mal formé", {
          cause: error,
        });
      }
    }
  }
  return null;
}
