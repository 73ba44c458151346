/** One chronology line per event: "Marie Durand — Statut : En cours → Terminé". */
import { formatDateTime } from "./relative-time.ts";
import type { Intervention, LiveEvent } from "./types.ts";

const FIELD_LABELS: Readonly<Record<string, string>> = {
  reference: "Référence",
  agent: "Agent",
  localisation: "Localisation",
  type: "Type",
  statut: "Statut",
  priorite: "Priorité",
  derniereMaj: "Mise à jour",
  commentaire: "Commentaire",
  latitude: "Latitude",
  longitude: "Longitude",
  departement: "Département",
};

/** Most telling changes first; `derniereMaj` changes with every edit, so it comes last. */
const FIELD_ORDER = [
  "statut",
  "priorite",
  "agent",
  "commentaire",
  "localisation",
  "type",
  "reference",
  "departement",
  "latitude",
  "longitude",
  "derniereMaj",
];

/** Bounds each value so a pasted novel in a comment does not swallow the chronology. */
const MAX_VALUE_LENGTH = 120;

function shorten(text: string): string {
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 1)}…` : text;
}

export function formatValue(field: string, value: unknown): string {
  if (value === null || value === undefined || value === "") return "(vide)";
  if (field === "derniereMaj" && typeof value === "string") {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return formatDateTime(ms);
  }
  if (typeof value === "string") return shorten(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return shorten(JSON.stringify(value) ?? "");
}

/** Who the line is about: the agent, else the reference, else the row id. */
export function actorOf(record: Intervention): string {
  return record.agent?.trim() || record.reference?.trim() || `Ligne ${record.id}`;
}

export interface TimelineLine {
  actor: string;
  /** Everything after the dash, without the time. */
  text: string;
}

export function describeEvent(event: LiveEvent): TimelineLine {
  const record = event.record;
  const reference = record.reference ? ` ${record.reference}` : "";
  if (event.type === "record.added") {
    const type = record.type ? ` (${record.type})` : "";
    const statut = record.statut ? ` · ${record.statut}` : "";
    return { actor: actorOf(record), text: `Nouvelle intervention${reference}${type}${statut}` };
  }
  if (event.type === "record.removed") {
    if (event.reason === "out-of-scope") {
      return { actor: actorOf(record), text: `Intervention${reference} sortie du périmètre` };
    }
    return { actor: actorOf(record), text: `Intervention${reference} supprimée` };
  }
  const changes = event.changes ?? {};
  const fields = Object.keys(changes).sort((a, b) => orderOf(a) - orderOf(b) || a.localeCompare(b));
  const parts = fields.map((field) => {
    const change = changes[field];
    const label = FIELD_LABELS[field] ?? field;
    return `${label} : ${formatValue(field, change?.from)} → ${formatValue(field, change?.to)}`;
  });
  return {
    actor: actorOf(record),
    text: parts.length > 0 ? parts.join(" ; ") : `Intervention${reference} mise à jour`,
  };
}

function orderOf(field: string): number {
  const index = FIELD_ORDER.indexOf(field);
  return index === -1 ? FIELD_ORDER.length : index;
}

/** A short sentence for the toast and the screen reader. */
export function toastText(event: LiveEvent): string {
  const line = describeEvent(event);
  const reference = event.record.reference;
  const prefix = reference && event.type === "record.updated" ? `${reference} · ` : "";
  return `${prefix}${line.actor} — ${line.text}`;
}
