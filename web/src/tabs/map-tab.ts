/**
 * Carte: loaded on first display of the tab (Leaflet and its stylesheet are not part of the
 * initial bundle). Markers are coloured by priority AND carry the priority's glyph, so colour is
 * never the only cue; records without coordinates are listed beside the map.
 */
import {
  divIcon,
  type LatLngTuple,
  type Map as LeafletMap,
  latLngBounds,
  map as leafletMap,
  marker as leafletMarker,
  type Marker,
  tileLayer,
} from "leaflet/dist/leaflet-src.esm.js";
import type { AppConfig } from "../core/parse.ts";
import { recordKey } from "../core/record-store.ts";
import type { Intervention } from "../core/types.ts";
import { PRIORITY_GLYPH, PRIORITY_KINDS, priorityKind, priorityRank } from "../core/vocabulary.ts";
import { priorityBadge, statusBadge } from "../ui/badges.ts";
import { h, replaceChildren, setText } from "../ui/dom.ts";

export interface MapView {
  update(records: readonly Intervention[]): void;
  /** Recomputes the size after the panel became visible. */
  refresh(): void;
}

function loadLeafletCss(): Promise<void> {
  const href = new URL(__LEAFLET_CSS__, import.meta.url).href;
  if (document.querySelector(`link[data-leaflet]`)) return Promise.resolve();
  return new Promise((resolve) => {
    const link = h("link", { attrs: { rel: "stylesheet", href, "data-leaflet": true } });
    link.addEventListener("load", () => resolve());
    // A missing stylesheet gives an uglier map, not a broken page.
    link.addEventListener("error", () => resolve());
    document.head.append(link);
  });
}

function hasPosition(
  record: Intervention,
): record is Intervention & { latitude: number; longitude: number } {
  return (
    record.latitude !== null &&
    record.longitude !== null &&
    Math.abs(record.latitude) <= 90 &&
    Math.abs(record.longitude) <= 180
  );
}

function popupContent(record: Intervention): HTMLElement {
  return h(
    "div",
    { class: "map-popup" },
    h("strong", { text: record.reference ?? `Ligne ${record.id}` }),
    h(
      "div",
      { class: "map-popup__badges" },
      priorityBadge(record.priorite),
      statusBadge(record.statut),
    ),
    h("div", { text: record.localisation ?? "" }),
    h("div", { text: [record.agent, record.type].filter(Boolean).join(" · ") }),
    record.commentaire ? h("p", { class: "map-popup__comment", text: record.commentaire }) : null,
  );
}

function pinIcon(record: Intervention) {
  const kind = priorityKind(record.priorite);
  // Leaflet accepts an element for `html`, so the glyph is set as text, not parsed.
  const pin = h("span", {
    class: "pin__glyph",
    attrs: { "aria-hidden": "true" },
    text: PRIORITY_GLYPH[kind],
  });
  return divIcon({
    html: pin,
    className: `pin pin--${kind}`,
    iconSize: [26, 26],
    iconAnchor: [13, 13],
  });
}

export async function createMapView(container: HTMLElement, config: AppConfig): Promise<MapView> {
  await loadLeafletCss();
  const canvas = h("div", {
    class: "map__canvas",
    attrs: { "aria-label": "Carte des interventions actives" },
  });
  const asideTitle = h("h2", { class: "map__aside-title" });
  const asideList = h("ul", { class: "map__nocoords" });
  const recenter = h("button", {
    class: "btn btn--ghost",
    attrs: { type: "button" },
    text: "Recentrer",
  });
  replaceChildren(
    container,
    h(
      "div",
      { class: "map" },
      h("div", { class: "map__main" }, canvas, h("div", { class: "map__tools" }, recenter)),
      h("aside", { class: "map__aside" }, asideTitle, asideList),
    ),
  );

  const map: LeafletMap = leafletMap(canvas, { zoomControl: true, keyboard: true }).setView(
    [46.6, 2.4],
    6,
  );
  // The attribution is operator configuration (Leaflet renders it as HTML), never record data.
  tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
  const markers = new Map<string, { marker: Marker; record: Intervention }>();
  let fitted = false;
  let positions: LatLngTuple[] = [];

  function fit() {
    if (positions.length === 0) return;
    map.fitBounds(latLngBounds(positions), { padding: [48, 48], maxZoom: 15 });
  }
  recenter.addEventListener("click", fit);

  return {
    update(records) {
      const located = records.filter(hasPosition);
      const missing = records.filter((record) => !hasPosition(record));
      const keep = new Set<string>();
      for (const record of located) {
        const key = recordKey(record.id);
        keep.add(key);
        const label = `${record.reference ?? `Ligne ${record.id}`} — priorité ${record.priorite ?? "inconnue"}, ${record.statut ?? "sans statut"}`;
        const existing = markers.get(key);
        if (existing && existing.record === record) continue;
        if (existing) existing.marker.remove();
        const marker = leafletMarker([record.latitude, record.longitude], {
          icon: pinIcon(record),
          title: label,
          alt: label,
          keyboard: true,
          riseOnHover: true,
          // Where markers overlap, the most urgent is drawn on top.
          zIndexOffset: (PRIORITY_KINDS.length - priorityRank(record.priorite)) * 1000,
        })
          .bindPopup(popupContent(record))
          .addTo(map);
        markers.set(key, { marker, record });
      }
      for (const [key, entry] of markers) {
        if (!keep.has(key)) {
          entry.marker.remove();
          markers.delete(key);
        }
      }
      positions = located.map((record) => [record.latitude, record.longitude] as LatLngTuple);
      // Fit once: a wall screen must not jump at every update; "Recentrer" refits on demand.
      if (!fitted && positions.length > 0) {
        fit();
        fitted = true;
      }
      setText(asideTitle, `Sans coordonnées (${missing.length})`);
      replaceChildren(
        asideList,
        ...missing.map((record) =>
          h(
            "li",
            { class: "map__nocoord" },
            h("strong", { text: record.reference ?? `Ligne ${record.id}` }),
            " ",
            priorityBadge(record.priorite),
            h("div", {
              class: "map__nocoord-loc",
              text: record.localisation ?? "Localisation non renseignée",
            }),
          ),
        ),
      );
    },
    refresh() {
      map.invalidateSize();
    },
  };
}
