/**
 * The statut and priorité values of the guide's `Interventions` table, compared loosely: Grist
 * Choice columns accept any text ("Termine", "termine ", "TERMINÉ"), so every comparison goes
 * through `fold`.
 */

/** Lower case, no diacritics, single spaces: "  Terminé " → "termine". */
export function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/\s+/g, " ").trim();
}

export const STATUS_KINDS = [
  "en-cours",
  "en-attente",
  "bloque",
  "termine",
  "annule",
  "autre",
] as const;
export type StatusKind = (typeof STATUS_KINDS)[number];

const STATUS_BY_FOLDED: Readonly<Record<string, StatusKind>> = {
  "en cours": "en-cours",
  "en attente": "en-attente",
  bloque: "bloque",
  termine: "termine",
  annule: "annule",
};

export function statusKind(statut: string | null): StatusKind {
  if (!statut) return "autre";
  return STATUS_BY_FOLDED[fold(statut)] ?? "autre";
}

/** Closed interventions leave the active list; "Annulé" is closed too, it needs no one on site. */
export function isClosed(statut: string | null): boolean {
  const kind = statusKind(statut);
  return kind === "termine" || kind === "annule";
}

export const PRIORITY_KINDS = ["urgente", "haute", "normale", "basse", "inconnue"] as const;
export type PriorityKind = (typeof PRIORITY_KINDS)[number];

export function priorityKind(priorite: string | null): PriorityKind {
  if (!priorite) return "inconnue";
  const folded = fold(priorite);
  return (PRIORITY_KINDS as readonly string[]).includes(folded)
    ? (folded as PriorityKind)
    : "inconnue";
}

/** Sort rank: Urgente first, unknown priorities last. */
export function priorityRank(priorite: string | null): number {
  return PRIORITY_KINDS.indexOf(priorityKind(priorite));
}

/**
 * A glyph shown beside each statut and priorité label so the information never rests on colour
 * alone (WCAG 1.4.1); the text label is always shown too. Plain Unicode symbols present in
 * common system fonts (DejaVu, Segoe UI Symbol), not emoji, which many kiosks cannot draw.
 */
export const STATUS_GLYPH: Readonly<Record<StatusKind, string>> = {
  "en-cours": "▶",
  "en-attente": "◷",
  bloque: "⊘",
  termine: "✓",
  annule: "✕",
  autre: "•",
};

export const PRIORITY_GLYPH: Readonly<Record<PriorityKind, string>> = {
  urgente: "‼",
  haute: "▲",
  normale: "■",
  basse: "▼",
  inconnue: "?",
};

/** Changes that must stand out: an urgent intervention, or one that becomes blocked. */
export function isAlarming(record: { statut: string | null; priorite: string | null }): boolean {
  return priorityKind(record.priorite) === "urgente" || statusKind(record.statut) === "bloque";
}

/** What an alarm is about: a record that became urgent, or one that became blocked. */
export type AlarmKind = "urgente" | "bloque";

interface AlarmCandidate {
  type: string;
  record: { statut: string | null; priorite: string | null };
  changes?: Readonly<Record<string, { from: unknown; to: unknown }>> | undefined;
}

/**
 * Alarms are edges, not states: an event raises one only when its record *becomes* urgent or
 * blocked (added as such, or changed into it). Other updates of an urgent record, closing it
 * and removals raise nothing, so a supervisor is not called for a change that needs nobody.
 */
export function alarmRaisedBy(event: AlarmCandidate): AlarmKind | null {
  if (event.type === "record.removed" || isClosed(event.record.statut)) return null;
  const blocked = statusKind(event.record.statut) === "bloque";
  const urgent = priorityKind(event.record.priorite) === "urgente";
  if (event.type === "record.added") return blocked ? "bloque" : urgent ? "urgente" : null;
  if (event.type !== "record.updated") return null;
  const statut = event.changes?.statut;
  if (blocked && statut && statusKind(asText(statut.from)) !== "bloque") return "bloque";
  const priorite = event.changes?.priorite;
  if (urgent && priorite && priorityKind(asText(priorite.from)) !== "urgente") return "urgente";
  return null;
}

function asText(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
