/**
 * A test double of Grist's widget API (the global `grist` that /grist-plugin-api.js defines),
 * injected before the widget loads. It follows grist-core `app/plugin/grist-plugin-api.ts` at
 * v1.7.17 (grist.md §4): `ready` once, callbacks fired by Grist messages (here: by the test
 * through `window.__gristDouble`), `mapColumnNames` returning null when a required column is
 * unmapped, options re-announced through `onOptions` after `setOptions`, and the theme injected
 * as `--grist-theme-*` variables in a <style id="grist-theme"> element.
 */

/** Runs in the page. Must be self-contained (it is serialised). */
function installGristDouble(accessToken: { token: string; baseUrl: string } | null) {
  type Row = Record<string, unknown> & { id: number };
  type Mappings = Record<string, string | string[] | null> | null;
  type Column = string | { name: string; optional?: boolean };
  const recordsCallbacks: ((rows: Row[], mappings: Mappings) => unknown)[] = [];
  const optionsCallbacks: ((options: unknown, settings: unknown) => unknown)[] = [];
  let columns: Column[] | undefined;
  let mappings: Mappings = null;
  let options: Record<string, unknown> | null = null;
  let settings: Record<string, unknown> = { accessLevel: "read table" };
  let onEditOptions: (() => unknown) | undefined;
  const state = {
    readyCalls: [] as unknown[],
    savedOptions: [] as unknown[],
    accessTokenCalls: [] as unknown[],
    emitRecords(rows: Row[], nextMappings: Mappings) {
      mappings = nextMappings;
      // Grist decodes DateTime cells to Date objects (keepEncoded: false).
      const decoded = rows.map((row) => {
        const copy: Row = { ...row };
        for (const [key, value] of Object.entries(copy)) {
          if (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value))
            copy[key] = new Date(value);
        }
        return copy;
      });
      for (const callback of recordsCallbacks) callback(decoded, mappings);
    },
    emitOptions(
      nextOptions: Record<string, unknown> | null,
      nextSettings: Record<string, unknown>,
    ) {
      options = nextOptions;
      settings = nextSettings;
      const theme = nextSettings.theme as
        | { appearance: string; colors: Record<string, string> }
        | undefined;
      if (theme) {
        let style = document.head.querySelector("#grist-theme");
        if (!style) {
          style = document.createElement("style");
          style.setAttribute("id", "grist-theme");
          document.head.append(style);
        }
        const props = Object.entries(theme.colors).map(
          ([name, value]) => `--grist-theme-${name}: ${value};`,
        );
        style.textContent = `:root {\n${props.join("\n")}\n}`;
        document.documentElement.style.setProperty("color-scheme", theme.appearance);
      }
      for (const callback of optionsCallbacks) callback(options, settings);
    },
    openConfiguration() {
      onEditOptions?.();
    },
  };

  function isOptional(name: string): boolean {
    return Boolean(columns?.find((c) => typeof c === "object" && c.name === name && c.optional));
  }

  const grist = {
    ready(
      readySettings: Record<string, unknown> & {
        columns?: Column[];
        onEditOptions?: () => unknown;
      },
    ) {
      if (state.readyCalls.length > 0) return; // second call ignored
      const { onEditOptions: edit, ...rest } = readySettings;
      onEditOptions = edit;
      columns = readySettings.columns;
      state.readyCalls.push({ ...rest, hasCustomOptions: Boolean(edit) });
    },
    onRecords(callback: (rows: Row[], mappings: Mappings) => unknown) {
      recordsCallbacks.push(callback);
    },
    onOptions(callback: (options: unknown, settings: unknown) => unknown) {
      optionsCallbacks.push(callback);
    },
    mapColumnNames(data: Row[]) {
      if (!columns) return data;
      if (!mappings) return null;
      if (Array.isArray(data) && data.length === 0) return data;
      const current = mappings;
      for (const widgetCol of Object.keys(current)) {
        const gristCol = current[widgetCol];
        if (!gristCol && !isOptional(widgetCol)) return null;
      }
      return data.map((row) => {
        const out: Record<string, unknown> = { id: row.id };
        for (const widgetCol of Object.keys(current).sort()) {
          const gristCol = current[widgetCol];
          if (typeof gristCol === "string") out[widgetCol] = row[gristCol];
        }
        return out;
      });
    },
    async setOptions(next: Record<string, unknown>) {
      state.savedOptions.push(next);
      state.emitOptions({ ...(options ?? {}), ...next }, settings);
    },
    async getAccessToken(request: unknown) {
      state.accessTokenCalls.push(request);
      if (settings.accessLevel !== "full" || !accessToken) {
        throw new Error(`Access not granted. Current access level ${String(settings.accessLevel)}`);
      }
      return { ...accessToken, ttlMsecs: 900_000 };
    },
  };
  Object.assign(window, { grist, __gristDouble: state });
}

/** The init script installing the double; with `accessToken` when the test gives full access. */
export function gristDoubleScript(
  accessToken: { token: string; baseUrl: string } | null = null,
): string {
  return `(${installGristDouble.toString()})(${JSON.stringify(accessToken)});`;
}

/** Grist rows as `onRecords` delivers them for the guide's table (column ID is ID2). */
export const GRIST_ROWS = [
  {
    id: 1,
    ID2: "INT-101",
    Agent: "Alice Martin",
    Localisation: "Bâtiment A, 13001 Marseille",
    Type: "Maintenance",
    Statut: "En cours",
    Priorite: "Haute",
    Derniere_MAJ: "2026-11-24T05:33:39.000Z",
    Commentaire: "Pris en charge",
    Lat: 43.3,
    Lng: 5.38,
  },
  {
    id: 2,
    ID2: "INT-102",
    Agent: "Bob Durand",
    Localisation: "Bâtiment B, 69003 Lyon",
    Type: "Réparation",
    Statut: "Bloqué",
    Priorite: "Urgente",
    Derniere_MAJ: "2026-11-24T02:00:00.000Z",
    Commentaire: "Pièce manquante",
    Lat: null,
    Lng: null,
  },
  {
    id: 3,
    ID2: "INT-103",
    Agent: "Chloé Petit",
    Localisation: "Parking",
    Type: "Inspection",
    Statut: "Termine",
    Priorite: "Basse",
    Derniere_MAJ: "2026-11-24T02:01:40.000Z",
    Commentaire: "RAS",
    Lat: null,
    Lng: null,
  },
];

/** The mapping a user makes in the creator panel (coordinates under other names). */
export const FULL_MAPPING = {
  Reference: "ID2",
  Agent: "Agent",
  Localisation: "Localisation",
  Type: "Type",
  Statut: "Statut",
  Priorite: "Priorite",
  Derniere_MAJ: "Derniere_MAJ",
  Commentaire: "Commentaire",
  Latitude: "Lat",
  Longitude: "Lng",
};
