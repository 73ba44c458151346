/**
 * The French text of an alert, as plain text and as the HTML subset Matrix clients render
 * (`org.matrix.custom.html`). Every value coming from Grist is untrusted: it is flattened to
 * one line, bounded, and HTML-escaped before it goes anywhere near markup.
 */
import type { RelayEvent } from "../domain/events.ts";
import type { Intervention } from "../domain/intervention.ts";
import { FIELD_LABELS } from "../domain/vocabulary.ts";

export interface RenderedAlert {
  /** First line, e.g. "🚨 Intervention urgente : INT-001". */
  title: string;
  text: string;
  html: string;
  /** Dashboard filtered on this intervention, or null when no dashboard URL is configured. */
  link: string | null;
}

export interface MatrixMessageContent {
  msgtype: "m.text";
  body: string;
  format: "org.matrix.custom.html";
  formatted_body: string;
}

/** French field names, from the vocabulary: the room reads the dashboard's words. */
const LABELS: Readonly<Record<string, string>> = FIELD_LABELS;
/** Shown after the change lines, for context, unless they are the change itself. */
const CONTEXT_FIELDS = ["agent", "localisation", "type", "statut", "priorite", "commentaire"];
/** Changes worth a line; the update time and derived coordinates are noise in a chat. */
const CHANGE_FIELDS = ["statut", "priorite", "agent", "localisation", "type", "commentaire"];
const MAX_VALUE_CHARS = 300;

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/**
 * One line of text for any cell value. Line breaks would let a comment forge extra lines
 * ("Agent : …") in the plain body, and bidi controls could reorder what readers see.
 */
export function displayValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "(vide)";
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" || typeof value === "boolean") text = String(value);
  else text = JSON.stringify(value) ?? "";
  text = text.replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]+/gu, " ").trim();
  if (text === "") return "(vide)";
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

/** True for the only schemes a link in an alert may use. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** `<dashboardUrl>/?q=<search>`; null without an http(s) dashboard URL. */
export function dashboardLink(dashboardUrl: string | undefined, search: string): string | null {
  if (!dashboardUrl || !isHttpUrl(dashboardUrl)) return null;
  const url = new URL(dashboardUrl);
  if (!url.pathname.endsWith("/")) url.pathname = `${url.pathname}/`;
  url.hash = "";
  url.searchParams.set("q", search);
  return url.href;
}

interface Line {
  label: string | null;
  value: string;
}

function changeLines(event: RelayEvent): Line[] {
  if (event.type === "record.added") return [{ label: null, value: "Nouvelle intervention" }];
  if (event.type === "record.removed") return [{ label: null, value: "Intervention supprimée" }];
  const changes = event.changes ?? {};
  if (Object.keys(changes).length === 0) {
    return [{ label: null, value: "Mise à jour (état précédent inconnu du relais)" }];
  }
  return CHANGE_FIELDS.filter((field) => field in changes).map((field) => ({
    label: LABELS[field] ?? field,
    value: `${displayValue(changes[field]?.from)} → ${displayValue(changes[field]?.to)}`,
  }));
}

function contextLines(record: Intervention, shown: Set<string>): Line[] {
  return CONTEXT_FIELDS.filter((field) => !shown.has(field))
    .filter((field) => field !== "commentaire" || record.commentaire)
    .map((field) => ({
      label: LABELS[field] ?? field,
      value: displayValue(record[field as keyof Intervention]),
    }));
}

export function renderAlert(
  event: RelayEvent,
  ruleTitle: string,
  options: { dashboardUrl?: string },
): RenderedAlert {
  const record = event.record;
  const reference = record.reference ? displayValue(record.reference) : null;
  const title = `${displayValue(ruleTitle)} : ${reference ?? `intervention n° ${displayValue(record.id)}`}`;
  const changed = changeLines(event);
  const shown = new Set(
    event.type === "record.updated" ? CHANGE_FIELDS.filter((f) => f in (event.changes ?? {})) : [],
  );
  const lines = [...changed, ...contextLines(record, shown)];
  const link = dashboardLink(options.dashboardUrl, record.reference ?? String(record.id));

  const text = [
    title,
    ...lines.map((line) => (line.label ? `${line.label} : ${line.value}` : line.value)),
    ...(link ? [`Tableau de bord : ${link}`] : []),
  ].join("\n");

  const items = lines.map((line) =>
    line.label
      ? `<li><b>${escapeHtml(line.label)} :</b> ${escapeHtml(line.value)}</li>`
      : `<li><em>${escapeHtml(line.value)}</em></li>`,
  );
  const html = [
    `<p><strong>${escapeHtml(title)}</strong></p>`,
    `<ul>${items.join("")}</ul>`,
    // The link is built by URL from an http(s) base, and escaped for the attribute anyway.
    ...(link ? [`<p><a href="${escapeHtml(link)}">Voir dans le tableau de bord</a></p>`] : []),
  ].join("");

  return { title, text, html, link };
}

/**
 * `m.text`, not `m.notice`: the default push rule `.m.rule.suppress_notices` silences every
 * notice, so an urgent alert sent as one would ring no supervisor's phone. Bots reading the
 * room must therefore ignore the relay's account themselves.
 */
export function toMatrixContent(alert: Pick<RenderedAlert, "text" | "html">): MatrixMessageContent {
  return {
    msgtype: "m.text",
    body: alert.text,
    format: "org.matrix.custom.html",
    formatted_body: alert.html,
  };
}
