/** Where a subscriber's token may come from: header, `token` query parameter or cookie. */
import { RelayError } from "../errors.ts";

export const TOKEN_COOKIE = "grist_realtime_token";

export function tokenFromRequest(
  headers: Record<string, string | string[] | undefined>,
  query: Record<string, unknown>,
): string | null {
  const authorization = headers.authorization;
  if (typeof authorization === "string" && authorization.startsWith("Bearer "))
    return authorization.slice(7).trim();
  // EventSource cannot send headers: browsers pass the token in the URL (redacted in logs).
  if (typeof query.token === "string" && query.token !== "") return query.token;
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
