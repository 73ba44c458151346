/**
 * Where to load `grist-plugin-api.js` from: the Grist server that embeds the widget, so the API
 * version matches the server (grist.md §4.1).
 */

export interface OriginHints {
  /** The operator's `GRIST_URL`, when configured: always preferred. */
  configured: string | null;
  /** `location.ancestorOrigins` (Chromium, Safari): the parent's origin first. */
  ancestorOrigins: readonly string[];
  /** `document.referrer`: Grist's page (or its origin, under strict referrer policies). */
  referrer: string;
}

function httpUrl(text: string): URL | null {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:" ? url : null;
  } catch {
    return null;
  }
}

/**
 * The URL of the plugin API script, or null outside an iframe. Security: the script runs with
 * this page's privileges, so the Content-Security-Policy `script-src` (set by the relay from
 * `GRIST_URL`) is what really limits which origin may provide it.
 */
export function pluginApiUrl(hints: OriginHints): string | null {
  const configured = hints.configured ? httpUrl(hints.configured) : null;
  if (configured) {
    // Keep a path prefix (Grist served under /grist/) for the configured URL.
    const base = configured.href.endsWith("/") ? configured.href : `${configured.href}/`;
    return new URL("grist-plugin-api.js", base).href;
  }
  const parent = hints.ancestorOrigins[0] ? httpUrl(hints.ancestorOrigins[0]) : null;
  const fromReferrer = hints.referrer ? httpUrl(hints.referrer) : null;
  const origin = parent?.origin ?? fromReferrer?.origin;
  return origin ? `${origin}/grist-plugin-api.js` : null;
}
