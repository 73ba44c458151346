/**
 * The map's background: the configured tiles (MAP_TILE_URL, IGN's Plan by default) while they
 * load; when they cannot (no Internet, a blocked tile server), the département outlines shipped
 * with the app, and a visible message instead of a grey void. Tiles are tried again every
 * minute or on demand, and win as soon as one loads.
 */
import {
  type GeoJSON,
  geoJSON,
  type Layer,
  type Map as LeafletMap,
  tileLayer,
} from "leaflet/dist/leaflet-src.esm.js";

/** Named in the map's attribution and in the offline message: the outlines' source and licence. */
export const OUTLINES_ATTRIBUTION =
  "Contours des départements : IGN, ADMIN EXPRESS COG 2018, Licence Ouverte / Etalab";

/** A tile server that answers nothing at all within this delay counts as down. */
const SILENT_SERVER_MS = 8_000;
/** How often tiles are tried again while the outlines stand in for them. */
const RETRY_TILES_MS = 60_000;

export type BaseState = "tuiles" | "contours";

export interface BaseLayerOptions {
  tileUrl: string;
  tileAttribution: string;
  onChange: (state: BaseState) => void;
}

export interface BaseLayer {
  readonly state: BaseState;
  /** Tries the tiles again now. */
  retry(): void;
}

let outlinesData: Promise<unknown> | null = null;

function loadOutlines(): Promise<unknown> {
  outlinesData ??= fetch(new URL(__DEPARTEMENTS_OUTLINES__, import.meta.url).href).then(
    (response) => {
      if (!response.ok) throw new Error(`outlines: HTTP ${response.status}`);
      return response.json();
    },
  );
  // A failed download may be retried at the next tile failure.
  outlinesData.catch(() => {
    outlinesData = null;
  });
  return outlinesData;
}

export function createBaseLayer(map: LeafletMap, options: BaseLayerOptions): BaseLayer {
  let state: BaseState = "tuiles";
  let tiles: Layer | null = null;
  let outlines: GeoJSON | null = null;
  let loadedThisRound = 0;
  let failedThisRound = 0;
  let silentTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const setState = (next: BaseState) => {
    if (next === state) return;
    state = next;
    options.onChange(state);
  };

  async function showOutlines() {
    if (outlines) return;
    try {
      const data = await loadOutlines();
      if (state !== "contours" || outlines) return;
      outlines = geoJSON(data, {
        interactive: false,
        attribution: OUTLINES_ATTRIBUTION,
        style: () => ({ color: "#6b7280", weight: 1, fillColor: "#f4f1ea", fillOpacity: 1 }),
      });
      outlines.addTo(map);
      outlines.bringToBack();
    } catch {
      // Without outlines the message still says why the map is bare.
    }
  }

  function goOffline() {
    clearTimeout(silentTimer);
    // Removing the layer stops the flood of failing image requests (one per tile).
    tiles?.remove();
    tiles = null;
    setState("contours");
    void showOutlines();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(addTiles, RETRY_TILES_MS);
  }

  function goOnline() {
    clearTimeout(retryTimer);
    outlines?.remove();
    outlines = null;
    setState("tuiles");
  }

  function addTiles() {
    tiles?.remove();
    loadedThisRound = 0;
    failedThisRound = 0;
    const layer = tileLayer(options.tileUrl, { attribution: options.tileAttribution, maxZoom: 19 });
    layer.on("loading", () => {
      loadedThisRound = 0;
      failedThisRound = 0;
      clearTimeout(silentTimer);
      silentTimer = setTimeout(() => {
        if (loadedThisRound === 0 && tiles === layer) goOffline();
      }, SILENT_SERVER_MS);
    });
    layer.on("tileload", () => {
      loadedThisRound++;
      if (state === "contours") goOnline();
    });
    layer.on("tileerror", () => {
      failedThisRound++;
    });
    // "load": every visible tile is settled, loaded or failed.
    layer.on("load", () => {
      clearTimeout(silentTimer);
      // Deferred: Leaflet still uses the layer's map right after firing "load", and removing
      // the layer inside the handler makes it throw (`_fadeAnimated` of null).
      if (loadedThisRound === 0 && failedThisRound > 0 && tiles === layer) {
        setTimeout(() => {
          if (tiles === layer && loadedThisRound === 0) goOffline();
        }, 0);
      }
    });
    tiles = layer;
    layer.addTo(map);
  }

  addTiles();
  return {
    get state() {
      return state;
    },
    retry() {
      if (state === "contours") addTiles();
    },
  };
}
