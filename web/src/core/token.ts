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
