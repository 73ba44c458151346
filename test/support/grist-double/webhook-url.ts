/** Grist's `isUrlAllowed` (§1.7): host *with port*, exact or `.suffix`; http only for localhost. */
export function isWebhookUrlAllowed(url: string, allowedDomains: string | undefined): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return false;
  const domains = (allowedDomains ?? "")
    .split(",")
    .map((d) => d.trim())
    .filter(Boolean);
  if (domains.includes("*")) return true;
  if (parsed.protocol === "http:" && parsed.hostname !== "localhost") return false;
  return domains.some((d) => parsed.host === d || parsed.host.endsWith(`.${d}`));
}
