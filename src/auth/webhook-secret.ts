/**
 * The only credential Grist can send is a static `Authorization` header (grist.md §1.1); senders
 * that cannot set headers may put the secret in `?secret=`.
 */
import { createHash, timingSafeEqual } from "node:crypto";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Constant-time: hashing first gives equal lengths, so not even the length leaks. */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function webhookAuthorized(
  expected: string,
  authorizationHeader: string | undefined,
  querySecret: string | undefined,
): boolean {
  let ok = false;
  if (authorizationHeader?.startsWith("Bearer "))
    ok = secretsEqual(authorizationHeader.slice(7).trim(), expected);
  // Evaluate both so the answer time does not tell which one was tried.
  if (querySecret !== undefined) ok = secretsEqual(querySecret, expected) || ok;
  return ok;
}
