/**
 * The columns the widget asks Grist users to map in the creator panel, and the conversion of a
 * mapped row into the dashboard's `Intervention`.
 */
import { departementFromAddress } from "../../../src/domain/departement.ts";
import type { Intervention } from "../core/types.ts";
import type { ColumnToMap, WidgetColumnMap } from "./grist-types.ts";

export const WIDGET_COLUMNS: ColumnToMap[] = [
  {
    name: "Reference",
    title: "Référence",
    description: "Identifiant lisible (colonne « ID », dont l'identifiant Grist est ID2).",
  },
  { name: "Agent", title: "Agent" },
  {
    name: "Localisation",
    title: "Localisation",
    description: "Adresse ; le code postal donne le département.",
  },
  { name: "Type", title: "Type" },
  { name: "Statut", title: "Statut", description: "En cours, En attente, Bloqué, Terminé…" },
  { name: "Priorite", title: "Priorité", description: "Urgente, Haute, Normale, Basse." },
  { name: "Derniere_MAJ", title: "Dernière mise à jour", description: "Date et heure (DateTime)." },
  { name: "Commentaire", title: "Commentaire" },
  { name: "Latitude", title: "Latitude", type: "Numeric", optional: true },
  { name: "Longitude", title: "Longitude", type: "Numeric", optional: true },
];

/** Required widget columns that have no Grist column mapped. */
export function missingColumns(mappings: WidgetColumnMap | null): string[] {
  return WIDGET_COLUMNS.filter((column) => !column.optional)
    .filter((column) => {
      const mapped = mappings?.[column.name];
      return (
        mapped === undefined || mapped === null || (Array.isArray(mapped) && mapped.length === 0)
      );
    })
    .map((column) => column.title ?? column.name);
}

/** Grist's decoded cell values (grist.md §4.5): strings, numbers, Date objects, lists, errors. */
function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map((item) => text(item) ?? "").join(", ");
  // A cell in error (RaisedException) or an unknown object: show nothing rather than "[object]".
  return null;
}

function isoDate(value: unknown): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  // Raw Grist DateTime: seconds since the epoch.
  if (typeof value === "number" && Number.isFinite(value))
    return new Date(value * 1000).toISOString();
  if (typeof value === "string" && value.trim()) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : new Date(ms).toISOString();
  }
  return null;
}

function coordinate(value: unknown): number | null {
  const n = typeof value === "string" && value.trim() ? Number(value.replace(",", ".")) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/** A row already renamed by `grist.mapColumnNames`. */
export function interventionFromMappedRow(row: Record<string, unknown>): Intervention | null {
  const id = row.id;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0) return null;
  const localisation = text(row.Localisation);
  return {
    id,
    reference: text(row.Reference),
    agent: text(row.Agent),
    localisation,
    type: text(row.Type),
    statut: text(row.Statut),
    priorite: text(row.Priorite),
    derniereMaj: isoDate(row.Derniere_MAJ),
    commentaire: text(row.Commentaire),
    latitude: coordinate(row.Latitude),
    longitude: coordinate(row.Longitude),
    departement: departementFromAddress(localisation),
    fields: {},
  };
}

export interface WidgetOptions {
  title: string | null;
  defaultTab: string | null;
}

/** Options saved on the Grist section; anything else in there is ignored. */
export function parseWidgetOptions(options: Record<string, unknown> | null): WidgetOptions {
  const title =
    typeof options?.title === "string" && options.title.trim()
      ? options.title.trim().slice(0, 120)
      : null;
  const defaultTab = typeof options?.defaultTab === "string" ? options.defaultTab : null;
  return { title, defaultTab };
}
