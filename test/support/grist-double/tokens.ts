/**
 * Access tokens as `grist.getAccessToken()` gives them to a widget: an HS256 JWT per document
 * (user, document, read-only flag, expiry), and the texts Grist answers a bad one with.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { type AccessTokenResult, type Doc, HttpError, type Identity } from "./model.ts";

export const TOKEN_TTL_MS = 15 * 60 * 1000;

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** `ttlMs` < 0 gives an already expired token. */
export function mintAccessToken(
  doc: Doc,
  userId: number,
  apiRoot: string,
  options: { readOnly?: boolean; ttlMs?: number } = {},
): AccessTokenResult {
  const ttlMs = options.ttlMs ?? TOKEN_TTL_MS;
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(
    JSON.stringify({
      userId,
      docId: doc.id,
      readOnly: options.readOnly ?? false,
      exp: Math.floor((Date.now() + ttlMs) / 1000),
    }),
  );
  const signature = createHmac("sha256", doc.tokenSecret).update(`${header}.${payload}`);
  return {
    token: `${header}.${payload}.${base64url(signature.digest())}`,
    baseUrl: `${apiRoot}/api/docs/${doc.urlId}`,
    ttlMsecs: ttlMs,
  };
}

export function verifyAccessToken(
  token: string,
  docs: ReadonlyMap<string, Doc>,
  userIds: ReadonlyMap<string, number>,
): Identity {
  const [header = "", payload = "", signature = ""] = token.split(".");
  let content: { userId?: unknown; docId?: unknown; readOnly?: unknown; exp?: unknown };
  try {
    content = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw new HttpError(401, "Broken token");
  }
  const doc = typeof content?.docId === "string" ? docs.get(content.docId) : undefined;
  if (typeof content !== "object" || content === null || typeof content.docId !== "string") {
    throw new HttpError(401, "Broken token");
  }
  const expected = doc
    ? createHmac("sha256", doc.tokenSecret).update(`${header}.${payload}`).digest()
    : Buffer.alloc(32);
  const given = Buffer.from(signature, "base64url");
  // Constant-time comparison, as a real verifier must (the double is also a reference).
  if (!doc || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new HttpError(401, "Cannot verify token");
  }
  if (typeof content.exp !== "number" || content.exp * 1000 <= Date.now()) {
    throw new HttpError(401, "Token has expired");
  }
  const apiKey = [...userIds].find(([, id]) => id === content.userId)?.[0] ?? null;
  return { apiKey, token: { docId: content.docId, readOnly: content.readOnly === true } };
}
