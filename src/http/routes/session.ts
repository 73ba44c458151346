/**
 * `POST /auth/session` (token in `Authorization: Bearer`) → the relay keeps the token in an
 * HttpOnly cookie, so the standalone dashboard opens `/events` without `?token=` and the token
 * stays out of reverse-proxy logs. `DELETE /auth/session` drops the cookie.
 *
 * The cookie authorises GET/HEAD only (request-token.ts); the widget in Grist's iframe cannot
 * use it (third-party cookie) and keeps the query string (docs/securite.md).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { TokenVerifier } from "../../auth/jwt.ts";
import { TOKEN_COOKIE } from "../../auth/request-token.ts";
import { RelayError } from "../../errors.ts";

export interface SessionRouteOptions {
  verifier: TokenVerifier;
  now?: () => number;
}

/**
 * Browsers drop a cookie whose name and value pass 4096 bytes; the margin keeps the
 * attributes of a long JWKS token's cookie within it.
 */
export const MAX_COOKIE_TOKEN_CHARS = 4000;

// The token goes into a Set-Cookie header: only the compact JWS alphabet (base64url and the
// two dots) may pass, so no `;`, `,`, space or CR/LF can add an attribute or a header.
const AuthorizationSchema = z
  .string()
  .regex(/^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
  .transform((value) => value.slice("Bearer ".length));

export function registerSessionRoutes(app: FastifyInstance, options: SessionRouteOptions): void {
  const now = options.now ?? Date.now;

  app.post("/auth/session", async (request, reply) => {
    const header = AuthorizationSchema.safeParse(request.headers.authorization);
    // Only the header: a cookie or a query string cannot open (or renew) a session, so a page
    // of another site cannot plant a token of its own choosing either (the header needs a
    // CORS preflight, which only CORS_ORIGINS pass).
    if (!header.success)
      throw new RelayError(
        "RELAY_ERR_UNAUTHORIZED",
        "en-tête « Authorization: Bearer <jeton> » attendu",
      );
    const token = header.data;
    if (token.length > MAX_COOKIE_TOKEN_CHARS)
      throw new RelayError(
        "RELAY_ERR_TOKEN_TOO_LONG_FOR_COOKIE",
        `jeton de plus de ${MAX_COOKIE_TOKEN_CHARS} caractères : passez-le en en-tête ou en paramètre`,
      );
    const principal = await options.verifier(token);
    const maxAgeSeconds =
      principal.expiresAt === null ? null : Math.floor((principal.expiresAt - now()) / 1000);
    // jose allows no clock tolerance here, but the last second rounds down to 0: a cookie
    // that would be gone at once is refused like the expired token it is about to be.
    if (maxAgeSeconds !== null && maxAgeSeconds <= 0)
      throw new RelayError("RELAY_ERR_UNAUTHORIZED", "jeton expiré");
    setCookie(request, reply, token, maxAgeSeconds);
    return {
      role: principal.role,
      expiresAt: principal.expiresAt === null ? null : new Date(principal.expiresAt).toISOString(),
    };
  });

  // No token needed: dropping one's own cookie is harmless, and a page stuck with a bad
  // cookie must be able to get rid of it.
  app.delete("/auth/session", async (request, reply) => {
    setCookie(request, reply, "", 0);
    return reply.code(204).send();
  });
}

function setCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  value: string,
  maxAgeSeconds: number | null,
): void {
  const attributes = [
    `${TOKEN_COOKIE}=${value}`,
    "HttpOnly",
    "SameSite=Strict",
    "Path=/",
    // No exp claim (an identity provider's choice): the cookie ends with the browser session.
    ...(maxAgeSeconds === null ? [] : [`Max-Age=${maxAgeSeconds}`]),
    // request.protocol follows X-Forwarded-Proto only with TRUST_PROXY. Secure only over HTTPS:
    // a browser refuses a Secure cookie set by a plain-http page, and http://localhost (a
    // developer, a relay reached through an SSH tunnel) must keep working; there the cookie
    // never leaves the machine anyway.
    ...(request.protocol === "https" ? ["Secure"] : []),
  ];
  reply.header("Set-Cookie", attributes.join("; "));
  // A bearer credential in the answer's headers: no cache may keep it.
  reply.header("Cache-Control", "no-store");
}
