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
  positionSource: "Origine de la position",
  positionScore: "Score de géocodage",
};

/**
 * `Derniere_MAJ` changes with every edit (a trigger formula): repeating it on every line is
 * noise, so it is left out of the sentence; an edit that changed nothing else still gets a line.
 */
const SILENT_FIELDS: ReadonlySet<string> = new Set(["derniereMaj"]);

/** Most telling changes first. */
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
  "positionSource",
  "positionScore",
];

/** How a position's origin reads on screen. */
const POSITION_SOURCE_TEXT: Readonly<Record<string, string>> = {
  grist: "saisie dans Grist",
  adresse: "d'après l'adresse",
  departement: "centre du département (approximative)",
};

/** Bounds each value so a pasted novel in a comment does not swallow the chronology. */
const MAX_VALUE_LENGTH = 120;

function shorten(text: string): string {
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 1)}…` : text;
}

export function formatValue(field: string, value: unknown): string {
  if (value === null || value === undefined || value === "") return "(vide)";
  if (field === "positionSource" && typeof value === "string") {
    return POSITION_SOURCE_TEXT[value] ?? value;
  }
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

/** One changed field of an update, for views that highlight the field. */
export interface ChangePart {
  field: string;
  label: string;
  from: string;
  to: string;
}

export interface TimelineLine {
  actor: string;
  /** Everything after the dash, without the time. */
  text: string;
  /** An update's changed fields, in the order of `text`. */
  changes?: ChangePart[];
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
  // The relay placed the row from its address: one plain sentence, not four coordinates.
  if (event.source === "geocoding") {
    return { actor: actorOf(record), text: `Position${reference} trouvée d'après l'adresse` };
  }
  const changes = event.changes ?? {};
  const fields = Object.keys(changes)
    .filter((field) => !SILENT_FIELDS.has(field))
    .sort((a, b) => orderOf(a) - orderOf(b) || a.localeCompare(b));
  const parts = fields.map((field) => ({
    field,
    label: FIELD_LABELS[field] ?? field,
    from: formatValue(field, changes[field]?.from),
    to: formatValue(field, changes[field]?.to),
  }));
  return {
    actor: actorOf(record),
    text:
      parts.length > 0
        ? parts.map((part) => `${part.label} : ${part.from} → ${part.to}`).join(" ; ")
        : `Intervention${reference} mise à jour`,
    changes: parts,
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
