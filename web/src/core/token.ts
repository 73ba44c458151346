/** The `?token=` given once in a dashboard link, taken out of the URL so it is not bookmarked. */

export interface TokenExtraction {
  token: string | null;
  /** The URL without `token`, to put back in the address bar; null when nothing changed. */
  cleanedUrl: string | null;
}

/** JWTs are a few hundred characters; anything far longer is not one of ours. */
const MAX_TOKEN_LENGTH = 8_192;

export function extractToken(href: string): TokenExtraction {
  const url = new URL(href);
  if (!url.searchParams.has("token")) return { token: null, cleanedUrl: null };
  const raw = (url.searchParams.get("token") ?? "").trim();
  url.searchParams.delete("token");
  const token = raw && raw.length <= MAX_TOKEN_LENGTH ? raw : null;
  return { token, cleanedUrl: url.pathname + url.search + url.hash };
}

/**
 * The `role` claim of a relay JWT, read without checking the signature: it only decides what
 * the page asks for (no "État du relais" request that the relay would refuse), never what it
 * may see, which the relay enforces. Tokens without the claim are viewers, as on the relay.
 */
export function tokenRole(token: string): string | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const claims: unknown = JSON.parse(json);
    if (typeof claims !== "object" || claims === null) return null;
    const role = (claims as { role?: unknown }).role;
    return typeof role === "string" ? role : "viewer";
  } catch {
    return null;
  }
}
