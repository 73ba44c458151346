/**
 * Standalone mode: the token arrives once in the link (`?token=`), then lives in sessionStorage
 * (this tab only, gone when it closes) and leaves the address bar so it is neither bookmarked,
 * shared by copy-paste, nor sent as a Referer.
 */
import { extractToken } from "../core/token.ts";

const STORAGE_KEY = "grist-realtime.token";

export function adoptTokenFromUrl(): string | null {
  const { token, cleanedUrl } = extractToken(window.location.href);
  if (cleanedUrl !== null) window.history.replaceState(window.history.state, "", cleanedUrl);
  try {
    if (token) window.sessionStorage.setItem(STORAGE_KEY, token);
    return window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage disabled (privacy mode): the token still works for this page view.
    return token;
  }
}
