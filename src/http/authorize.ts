/** Turns a request into a Principal, or the 401/403 to answer. */
import type { FastifyRequest } from "fastify";
import type { TokenVerifier } from "../auth/jwt.ts";
import { hasRole, LOCAL_OPERATOR, type Principal, type Role } from "../auth/principal.ts";
import { tokenFromRequest } from "../auth/request-token.ts";
import { RelayError } from "../errors.ts";

export type Authorize = (request: FastifyRequest, minimum: Role) => Promise<Principal>;

export function createAuthorize(verifier: TokenVerifier | null): Authorize {
  return async function authorize(request, minimum) {
    // No auth configured: config refused to start unless the relay listens on loopback (or
    // the operator explicitly accepted a public unauthenticated relay).
    if (!verifier) return LOCAL_OPERATOR;
    const token = tokenFromRequest(
      request.method,
      request.headers,
      request.query as Record<string, unknown>,
    );
    if (!token)
      throw new RelayError(
        "RELAY_ERR_UNAUTHORIZED",
        "jeton manquant (en-tête Authorization, paramètre token, ou cookie sur GET)",
      );
    const principal = await verifier(token);
    if (!hasRole(principal, minimum)) {
      throw new RelayError(
        "RELAY_ERR_FORBIDDEN",
        `rôle ${minimum} requis (jeton : ${principal.role})`,
      );
    }
    return principal;
  };
}
