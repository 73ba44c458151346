/**
 * The product's one vocabulary, shared by the relay and the browser: the fields of an
 * intervention with their French labels and Grist column candidates, the statut and priorité
 * words, the one text comparison and the alarm rule. Browser-safe (no `node:` import, no zod):
 * the web bundle imports this file by relative path. Adding a column to the model is one entry
 * in `FIELD_SPECS`, then its uses.
 */

/**
 * The one comparison of a user's word with the data — filters, alert rules, scope, counters,
 * colours: lower case, no diacritics, single spaces. "  BLOQUÉ " → "bloque". NFD then dropping
 * marks also makes composed and decomposed "é" (macOS keyboards) equal.
 */
export function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/\s+/g, " ").trim();
}

/** True when a value of the data is the word a user wrote (numbers compare as their text). */
export function sameWord(value: unknown, word: string): boolean {
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
    return false;
  }
  return fold(String(value)) === fold(word);
}

/** How a Grist cell becomes a field value: text, an ISO 8601 time, or a coordinate. */
export type FieldKind = "text" | "time" | "coordinate";

export interface FieldSpec {
  /** French label, shown to users (widget creator panel, alerts, docs). */
  readonly label: string;
  readonly kind: FieldKind;
  /** Grist column ids tried in order; the first present in a row wins. */
  readonly columns: readonly string[];
  /**
   * The name the widget asks Grist users to map. Grist saves mappings under it in each
   * section: never rename one.
   */
  readonly widgetColumn: string;
  /** Help text in the widget's creator panel. */
  readonly description?: string;
  /** The widget works without it. */
  readonly optional?: boolean;
}

/**
 * The fields read from a Grist row, in display order. Grist renames a column labelled `ID` to
 * `ID2` (grist.md §8), hence the candidates; accent-free variants are common in real tables.
 */
export const FIELD_SPECS = {
  reference: {
    label: "Référence",
    kind: "text",
    columns: ["ID2", "ID", "Reference", "Ref"],
    widgetColumn: "Reference",
    description: "Identifiant lisible (colonne « ID », dont l'identifiant Grist est ID2).",
  },
  agent: { label: "Agent", kind: "text", columns: ["Agent"], widgetColumn: "Agent" },
  localisation: {
    label: "Localisation",
    kind: "text",
    columns: ["Localisation", "Adresse"],
    widgetColumn: "Localisation",
    description: "Adresse ; le code postal donne le département.",
  },
  type: { label: "Type", kind: "text", columns: ["Type"], widgetColumn: "Type" },
  statut: {
    label: "Statut",
    kind: "text",
    columns: ["Statut"],
    widgetColumn: "Statut",
    description: "En cours, En attente, Bloqué, Terminé…",
  },
  priorite: {
    label: "Priorité",
    kind: "text",
    columns: ["Priorite", "Priorité"],
    widgetColumn: "Priorite",
    description: "Urgente, Haute, Normale, Basse.",
  },
  derniereMaj: {
    label: "Dernière mise à jour",
    kind: "time",
    columns: ["Derniere_MAJ", "Derniere_maj", "DerniereMaj"],
    widgetColumn: "Derniere_MAJ",
    description: "Date et heure (DateTime).",
  },
  commentaire: {
    label: "Commentaire",
    kind: "text",
    columns: ["Commentaire"],
    widgetColumn: "Commentaire",
  },
  latitude: {
    label: "Latitude",
    kind: "coordinate",
    columns: ["Latitude", "Lat"],
    widgetColumn: "Latitude",
    optional: true,
  },
  longitude: {
    label: "Longitude",
    kind: "coordinate",
    columns: ["Longitude", "Lon", "Lng"],
    widgetColumn: "Longitude",
    optional: true,
  },
} as const satisfies Record<string, FieldSpec>;

/** A field read from a Grist column. */
export type MappedField = keyof typeof FIELD_SPECS;
export const MAPPED_FIELDS = Object.keys(FIELD_SPECS) as readonly MappedField[];

/**
 * Where a record's position comes from: the Grist Latitude/Longitude columns, the geocoded
 * address (with the geocoder's score), the département's reference point (approximate), or
 * nowhere.
 */
export const POSITION_SOURCES = ["grist", "adresse", "departement"] as const;
export type PositionSource = (typeof POSITION_SOURCES)[number];

/** Fields the relay derives from the mapped ones (the postcode's département, the position's origin). */
export const DERIVED_FIELDS = ["departement", "positionSource", "positionScore"] as const;
export type DerivedField = (typeof DERIVED_FIELDS)[number];

/** The fields every intervention carries: the mapped ones, then those derived from them. */
export const TRACKED_FIELDS = [...MAPPED_FIELDS, ...DERIVED_FIELDS] as const;
export type TrackedField = MappedField | DerivedField;

/** Derived fields holding numbers (the browser's hand-written check needs to know). */
export const NUMERIC_DERIVED_FIELDS: readonly DerivedField[] = ["positionScore"];

/** One value per mapped field, in field order. */
export function byField<T>(value: (field: MappedField) => T): Record<MappedField, T> {
  const out = {} as Record<MappedField, T>;
  for (const field of MAPPED_FIELDS) out[field] = value(field);
  return out;
}

export const FIELD_LABELS: Readonly<Record<TrackedField, string>> = Object.freeze({
  ...byField((field) => FIELD_SPECS[field].label),
  departement: "Département",
  positionSource: "Origine de la position",
  positionScore: "Score de géocodage",
});

/** The Grist column candidates of each field (the relay's default column mapping). */
export const GRIST_COLUMNS: Readonly<Record<MappedField, readonly string[]>> = Object.freeze(
  byField((field) => FIELD_SPECS[field].columns),
);

/** The widget's rows, renamed by `grist.mapColumnNames`, carry each field under its name. */
export const WIDGET_COLUMN_NAMES: Readonly<Record<MappedField, readonly string[]>> = Object.freeze(
  byField((field) => [FIELD_SPECS[field].widgetColumn]),
);

/** Value type of a field of each kind. */
export type FieldValue<K extends FieldKind> = K extends "coordinate"
  ? number | null
  : string | null;
export type InterventionValues = {
  [F in MappedField]: FieldValue<(typeof FIELD_SPECS)[F]["kind"]>;
} & {
  departement: string | null;
  positionSource: PositionSource | null;
  /** 0–1, only when `positionSource` is "adresse". */
  positionScore: number | null;
};

/** The fields a list can be filtered on, in the order the filter bar shows them. */
export const FILTER_FIELDS = ["departement", "type", "statut", "priorite", "agent"] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

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

/** Grist Choice columns accept any text ("Termine", "termine ", "TERMINÉ"): all one kind. */
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

/** A state that must stand out: an urgent intervention, or a blocked one. */
export function isAlarming(record: { statut: string | null; priorite: string | null }): boolean {
  return priorityKind(record.priorite) === "urgente" || statusKind(record.statut) === "bloque";
}

/** What an alarm is about: a record that became blocked, or one that became urgent. */
export const ALARM_KINDS = ["bloque", "urgente"] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export interface AlarmCandidate {
  type: string;
  record: { statut?: string | null; priorite?: string | null };
  changes?: Readonly<Record<string, { from: unknown; to: unknown }>> | undefined;
}

function textOf(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/**
 * Alarms are edges, not states: an event raises one only when its record *becomes* urgent or
 * blocked (added as such, or changed into it). Other updates of an urgent record, closing it
 * and removals raise nothing, so a supervisor is not called for a change that needs nobody.
 * An update that carries no change at all comes from a row the relay had never seen: its
 * previous state is unknown, and missing an alarm is worse than one extra, so it counts as
 * added. Both kinds when both became true, blocked first.
 */
export function alarmsRaisedBy(event: AlarmCandidate): AlarmKind[] {
  const statut = event.record.statut ?? null;
  const priorite = event.record.priorite ?? null;
  if (event.type === "record.removed" || isClosed(statut)) return [];
  if (event.type !== "record.added" && event.type !== "record.updated") return [];
  const blocked = statusKind(statut) === "bloque";
  const urgent = priorityKind(priorite) === "urgente";
  const changes = event.changes ?? {};
  const previousUnknown = event.type === "record.added" || Object.keys(changes).length === 0;
  const became = (
    field: "statut" | "priorite",
    isNow: boolean,
    was: (v: string | null) => boolean,
  ) =>
    isNow &&
    (previousUnknown || (changes[field] !== undefined && !was(textOf(changes[field]?.from))));
  const kinds: AlarmKind[] = [];
  if (became("statut", blocked, (v) => statusKind(v) === "bloque")) kinds.push("bloque");
  if (became("priorite", urgent, (v) => priorityKind(v) === "urgente")) kinds.push("urgente");
  return kinds;
}

/** The alarm an event raises (blocked before urgent), or null: what the screen toasts. */
export function alarmRaisedBy(event: AlarmCandidate): AlarmKind | null {
  return alarmsRaisedBy(event)[0] ?? null;
}
