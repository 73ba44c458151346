/**
 * The `Interventions` table the relay expects (the guide's columns), how to find each column in
 * a real document whatever Grist named it (`ID` becomes `ID2`, §8), and how to compare it with
 * what is there without ever proposing to delete or convert user data.
 */

import type { z } from "zod";
import { ColumnMappingFileSchema, type MappedField } from "../domain/column-mapping.ts";
import type { GristColumn } from "./rest-client.ts";

export type ColumnMappingFile = z.infer<typeof ColumnMappingFileSchema>;

export interface ExpectedColumn {
  field: MappedField;
  /** The id asked for on creation; Grist may give another one (`ID` → `ID2`). */
  id: string;
  label: string;
  type: string;
  choices?: readonly string[];
  /** Created with a new table, but not added to an existing one. */
  optional?: boolean;
  /** A trigger formula Grist applies to the row (data column, grist.md §9). */
  trigger?: { formula: string; recalcWhen: number };
}

/**
 * `Derniere_MAJ` as Grist users expect such a column: a data column stamped by Grist with
 * `NOW()` on every change to any field of the row (recalcWhen 2, "apply on changes to any
 * field"), so it dates each change without anyone typing it.
 */
export const LAST_UPDATE_TRIGGER = { formula: "NOW()", recalcWhen: 2 } as const;

export const DEFAULT_TABLE_ID = "Interventions";

export const EXPECTED_COLUMNS: readonly ExpectedColumn[] = [
  { field: "reference", id: "ID", label: "ID", type: "Text" },
  { field: "agent", id: "Agent", label: "Agent", type: "Text" },
  { field: "localisation", id: "Localisation", label: "Localisation", type: "Text" },
  {
    field: "type",
    id: "Type",
    label: "Type",
    type: "Choice",
    choices: ["Voirie", "Signalisation", "Bâtiment", "Maintenance", "Réparation", "Inspection"],
  },
  {
    field: "statut",
    id: "Statut",
    label: "Statut",
    type: "Choice",
    choices: ["En attente", "En cours", "Terminé", "Bloqué"],
  },
  {
    field: "priorite",
    id: "Priorite",
    label: "Priorite",
    type: "Choice",
    choices: ["Basse", "Normale", "Haute", "Urgente"],
  },
  {
    field: "derniereMaj",
    id: "Derniere_MAJ",
    label: "Derniere_MAJ",
    type: "DateTime:Europe/Paris",
    trigger: LAST_UPDATE_TRIGGER,
  },
  { field: "commentaire", id: "Commentaire", label: "Commentaire", type: "Text" },
  { field: "latitude", id: "Latitude", label: "Latitude", type: "Numeric", optional: true },
  { field: "longitude", id: "Longitude", label: "Longitude", type: "Numeric", optional: true },
];

/** True when the column already is the trigger formula `trigger` describes. */
export function isTriggerColumn(
  column: GristColumn,
  trigger: { formula: string; recalcWhen: number },
): boolean {
  return (
    column.fields.isFormula === false &&
    (column.fields.formula ?? "").trim() === trigger.formula &&
    column.fields.recalcWhen === trigger.recalcWhen
  );
}

/** Lowercase, no accents, letters and digits only: "Dernière MAJ" ≈ "Derniere_MAJ". */
export function looseName(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");
}

/**
 * Finds each expected column among the real ones: same id, else same label, else a loose match
 * of id or label. A real column is used at most once.
 */
export function matchColumns(actual: readonly GristColumn[]): Map<MappedField, GristColumn> {
  const matches = new Map<MappedField, GristColumn>();
  const used = new Set<string>();
  const passes: Array<(expected: ExpectedColumn, column: GristColumn) => boolean> = [
    (e, c) => c.id === e.id,
    (e, c) => c.fields.label === e.label,
    (e, c) => {
      const names = [looseName(c.id), looseName(c.fields.label ?? "")];
      return names.includes(looseName(e.id)) || names.includes(looseName(e.label));
    },
  ];
  for (const pass of passes) {
    for (const expected of EXPECTED_COLUMNS) {
      if (matches.has(expected.field)) continue;
      const found = actual.find((c) => !used.has(c.id) && pass(expected, c));
      if (found) {
        matches.set(expected.field, found);
        used.add(found.id);
      }
    }
  }
  return matches;
}

/** Choices stored in a column's widgetOptions JSON string; [] when absent or unreadable. */
export function parseChoices(widgetOptions: string | undefined): string[] {
  const options = parseWidgetOptions(widgetOptions);
  const choices = options?.choices;
  return Array.isArray(choices) ? choices.filter((c): c is string => typeof c === "string") : [];
}

function parseWidgetOptions(widgetOptions: string | undefined): Record<string, unknown> | null {
  if (!widgetOptions) return {};
  try {
    const parsed: unknown = JSON.parse(widgetOptions);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * The widgetOptions string with `extra` appended to the choices; every other option (colours,
 * alignment…) and every existing choice kept. Null when the options cannot be read safely.
 */
export function widgetOptionsWithChoices(
  widgetOptions: string | undefined,
  extra: readonly string[],
): string | null {
  const options = parseWidgetOptions(widgetOptions);
  if (options === null) return null;
  return JSON.stringify({ ...options, choices: [...parseChoices(widgetOptions), ...extra] });
}

export interface ColumnComparison {
  /** Expected choices to add (no exact nor accent-insensitive variant present). */
  missingChoices: string[];
  /** French sentences describing differences left as they are. */
  notices: string[];
}

/** Compares one real column with what is expected; never proposes to change its type. */
export function compareColumn(expected: ExpectedColumn, actual: GristColumn): ColumnComparison {
  const name = describe(expected, actual);
  const notices: string[] = [];
  const type = actual.fields.type ?? "Any";
  if (actual.fields.isFormula) {
    notices.push(`${name} est une colonne de formule : le relais lira ses valeurs calculées.`);
  }
  if (type !== expected.type) {
    const sameKind = expected.type.startsWith("DateTime") && type.startsWith("DateTime");
    notices.push(
      sameKind
        ? `${name} est de type ${type} (attendu ${expected.type}) : seul l'affichage dans Grist change, les valeurs restent en UTC.`
        : `${name} est de type ${type} (attendu ${expected.type}). Non modifié : changer le type convertirait les données ; faites-le dans Grist si besoin.`,
    );
  }
  const missingChoices: string[] = [];
  if (expected.choices && type === "Choice") {
    const present = parseChoices(actual.fields.widgetOptions);
    if (parseWidgetOptions(actual.fields.widgetOptions) === null) {
      notices.push(`${name} : options illisibles, choix non modifiés.`);
      return { missingChoices, notices };
    }
    for (const choice of expected.choices) {
      if (present.includes(choice)) continue;
      const variant = present.find((p) => looseName(p) === looseName(choice));
      if (variant) {
        notices.push(`${name} : « ${variant} » est conservé à la place de « ${choice} ».`);
      } else {
        missingChoices.push(choice);
      }
    }
    const extra = present.filter(
      (p) => !expected.choices?.some((c) => looseName(c) === looseName(p)),
    );
    if (extra.length > 0) {
      notices.push(
        `${name} : choix supplémentaires conservés : ${extra.map((c) => `« ${c} »`).join(", ")}.`,
      );
    }
  }
  return { missingChoices, notices };
}

function describe(expected: ExpectedColumn, actual: GristColumn): string {
  return actual.id === expected.id
    ? `La colonne « ${actual.id} »`
    : `La colonne « ${actual.id} » (pour ${expected.label})`;
}

/** Column definitions for creating the table or missing columns (`widgetOptions` as a string). */
export function columnSpec(expected: ExpectedColumn): GristColumn {
  const fields: GristColumn["fields"] = { label: expected.label, type: expected.type };
  if (expected.choices) fields.widgetOptions = JSON.stringify({ choices: expected.choices });
  // recalcWhen is not applied on creation (grist.md §9): setup PATCHes it afterwards.
  if (expected.trigger) Object.assign(fields, { isFormula: false, ...expected.trigger });
  return { id: expected.id, fields };
}

/**
 * The mapping file the relay reads: the real column id of each field and every Date/DateTime
 * column (so their epoch seconds are decoded). Fields without a column are left out.
 */
export function buildMappingFile(
  matches: ReadonlyMap<MappedField, GristColumn>,
  columns: readonly GristColumn[],
): ColumnMappingFile {
  const mapping: Record<string, unknown> = {};
  for (const expected of EXPECTED_COLUMNS) {
    const column = matches.get(expected.field);
    if (column) mapping[expected.field] = column.id;
  }
  mapping.dateColumns = columns
    .filter((c) => /^Date(Time)?(:|$)/.test(c.fields.type ?? ""))
    .map((c) => c.id);
  return ColumnMappingFileSchema.parse(mapping);
}
