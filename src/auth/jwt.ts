/**
 * Subscriber tokens. HS256 with a shared secret, or keys from a JWKS endpoint (an identity
 * provider). Algorithms are pinned per key type: a token cannot choose how it is checked.
 */
import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify, SignJWT } from "jose";
import { RelayError } from "../errors.ts";
import { type Principal, RelayClaimsSchema, type Role } from "./principal.ts";

// Asymmetric algorithms only for JWKS: accepting HS* there would let a public key be used as
// an HMAC secret (algorithm confusion). `none` is never accepted by jose with a key.
const JWKS_ALGORITHMS = ["RS256", "PS256", "ES256", "ES384", "EdDSA"];
const SECRET_ALGORITHMS = ["HS256"];

export interface TokenVerifierOptions {
  secret?: string | undefined;
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

function reject(message: string, cause?: unknown): RelayError {
  return new RelayError("RELAY_ERR_UNAUTHORIZED", message, { cause });
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const secret = options.secret ? new TextEncoder().encode(options.secret) : null;
  const jwks: JWTVerifyGetKey | null = options.jwksUrl
    ? createRemoteJWKSet(new URL(options.jwksUrl), {
        timeoutDuration: 5000,
        cooldownDuration: 30_000,
      })
    : null;
  const common = {
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  return async function verifyRelayToken(token: string): Promise<Principal> {
    if (token.length > 8192) throw reject("jeton trop long");
    let payload: unknown;
    try {
      const header = JSON.parse(
        Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8"),
      ) as { alg?: unknown };
      const symmetric = typeof header.alg === "string" && header.alg.startsWith("HS");
      if (symmetric && secret) {
        payload = (await jwtVerify(token, secret, { ...common, algorithms: SECRET_ALGORITHMS }))
          .payload;
      } else if (!symmetric && jwks) {
        payload = (await jwtVerify(token, jwks, { ...common, algorithms: JWKS_ALGORITHMS }))
          .payload;
      } else {
        throw reject(`algorithme de jeton refusé (${String(header.alg)})`);
      }
    } catch (error) {
      if (error instanceof RelayError) throw error;
      if (error instanceof errors.JWTExpired) throw reject("jeton expiré", error);
      if (error instanceof errors.JWTClaimValidationFailed)
        throw reject(`revendication refusée : ${error.claim}`, error);
      throw reject("jeton invalide", error);
    }
    const claims = RelayClaimsSchema.safeParse(payload);
    if (!claims.success)
      throw reject(
        `revendications invalides : ${claims.error.issues.map((i) => i.path.join(".")).join(", ")}`,
      );
    return {
      subject: claims.data.sub ?? null,
      role: claims.data.role,
      departements: claims.data.departements?.map((d) => d.toUpperCase()) ?? null,
      expiresAt: claims.data.exp !== undefined ? claims.data.exp * 1000 : null,
    };
  };
}

export interface MintOptions {
  secret: string;
  role: Role;
  departements?: readonly string[] | undefined;
  subject?: string | undefined;
  ttlSeconds: number;
  issuer?: string | undefined;
  audience?: string | undefined;
}

/** Signs an HS256 relay token (CLI `token`, Grist-token login). */
export async function mintToken(options: MintOptions): Promise<string> {
  const jwt = new SignJWT({
    role: options.role,
    ...(options.departements ? { departements: [...options.departements] } : {}),
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlSeconds);
  if (options.subject) jwt.setSubject(options.subject);
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
