/**
 * Carte: loaded on first display of the tab (Leaflet and its stylesheet are not part of the
 * initial bundle). Opens on mainland France, with one button per overseas territory; nearby
 * markers are grouped; approximate positions are drawn hollow; when tiles fail, département
 * outlines and a message replace them; records without any position are listed beside the map.
 */
import {
  type LatLngTuple,
  type Map as LeafletMap,
  latLngBounds,
  layerGroup,
  map as leafletMap,
  marker as leafletMarker,
  popup as leafletPopup,
  type Marker,
} from "leaflet/dist/leaflet-src.esm.js";
import type { AppConfig } from "../core/parse.ts";
import { recordKey } from "../core/record-store.ts";
import type { Intervention } from "../core/types.ts";
import { PRIORITY_KINDS, priorityRank } from "../core/vocabulary.ts";
import { priorityBadge } from "../ui/badges.ts";
import { h, replaceChildren, setAttr, setText } from "../ui/dom.ts";
import { type BaseState, createBaseLayer } from "./map/base-layer.ts";
import { type Group, groupByCell, type Placed, samePoint } from "./map/clusters.ts";
import { createLegend } from "./map/legend.ts";
import {
  clusterIcon,
  clusterLabel,
  groupPopupContent,
  pinIcon,
  pinLabel,
  popupContent,
} from "./map/markers.ts";
import { defaultTerritory, ELSEWHERE, TERRITORIES, territoryOf } from "./map/territories.ts";

export interface MapView {
  update(records: readonly Intervention[]): void;
  /** Recomputes the size after the panel became visible. */
  refresh(): void;
}

/** Side of a grouping cell, in screen pixels: about two pins. */
const CELL_PX = 56;
/** From this zoom on (streets), every marker stands alone. */
const UNGROUPED_FROM_ZOOM = 16;

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

type Located = Intervention & { latitude: number; longitude: number };

function hasPosition(record: Intervention): record is Located {
  return (
    record.latitude !== null &&
    record.longitude !== null &&
    Math.abs(record.latitude) <= 90 &&
    Math.abs(record.longitude) <= 180
  );
}

interface Shown {
  marker: Marker;
  /** The record objects drawn: a new object means the record changed. */
  records: readonly Intervention[];
}

function sameRecords(a: readonly Intervention[], b: readonly Intervention[]): boolean {
  return a.length === b.length && a.every((record, i) => record === b[i]);
}

const OFFLINE_MESSAGE =
  "Fond de carte indisponible (serveur de tuiles injoignable) : contours des départements affichés à la place.";

export async function createMapView(container: HTMLElement, config: AppConfig): Promise<MapView> {
  await loadLeafletCss();
  const canvas = h("div", {
    class: "map__canvas",
    attrs: { role: "region", "aria-label": "Carte des interventions actives" },
  });
  const notice = h("div", { class: "map__notice", attrs: { role: "status" } });
  const retry = h("button", {
    class: "btn btn--ghost",
    attrs: { type: "button" },
    text: "Réessayer le fond de carte",
  });
  const territoryOptions = new Map<string, HTMLOptionElement>();
  const territorySelect = h("select", {
    class: "field__control map__territory",
    attrs: { id: "map-territory", "data-territory-select": true },
  });
  for (const territory of TERRITORIES) {
    const option = h("option", { attrs: { value: territory.id }, text: territory.label });
    territoryOptions.set(territory.id, option);
    territorySelect.append(option);
  }
  territorySelect.addEventListener("change", () => show(territorySelect.value));
  const territoryField = h(
    "div",
    { class: "map__territories" },
    h("label", { attrs: { for: "map-territory" }, text: "Territoire" }),
    territorySelect,
  );
  const elsewhere = h("span", { class: "map__elsewhere" });
  const recenter = h("button", {
    class: "btn btn--ghost",
    attrs: { type: "button" },
    text: "Recentrer",
  });
  const asideTitle = h("h2", { class: "map__aside-title" });
  const asideList = h("ul", { class: "map__nocoords" });
  replaceChildren(
    container,
    h(
      "div",
      { class: "map" },
      h(
        "div",
        { class: "map__main" },
        h("div", { class: "map__tools" }, territoryField, recenter, elsewhere),
        notice,
        canvas,
        createLegend(),
      ),
      // Focusable so a keyboard user can scroll a long list (axe: scrollable-region-focusable).
      h(
        "aside",
        { class: "map__aside", attrs: { tabindex: 0, "aria-labelledby": "map-aside-title" } },
        asideTitle,
        asideList,
      ),
    ),
  );
  setAttr(asideTitle, "id", "map-aside-title");

  // No animations: markers are regrouped at every zoom, and Leaflet's zoom animation of a
  // marker removed meanwhile throws (`_fadeAnimated` of null); a wall screen gains nothing.
  const map: LeafletMap = leafletMap(canvas, {
    zoomControl: true,
    keyboard: true,
    zoomAnimation: false,
    fadeAnimation: false,
    markerZoomAnimation: false,
    // Half steps: mainland France fills the frame better than at whole zoom levels.
    zoomSnap: 0.5,
  });
  let territory = "metropole";
  let chosen = false;
  function show(id: string) {
    const target = TERRITORIES.find((t) => t.id === id);
    if (!target) return;
    territory = id;
    chosen = true;
    map.fitBounds(target.bounds, { padding: [12, 12], animate: false });
    territorySelect.value = id;
  }
  show("metropole");
  chosen = false;
  recenter.addEventListener("click", () => show(territory));

  const renderNotice = (state: BaseState) => {
    canvas.classList.toggle("map__canvas--outlines", state === "contours");
    if (state === "contours") replaceChildren(notice, h("p", { text: OFFLINE_MESSAGE }), retry);
    else replaceChildren(notice);
    notice.hidden = state !== "contours";
  };
  notice.hidden = true;
  const base = createBaseLayer(map, {
    tileUrl: config.tileUrl,
    tileAttribution: config.tileAttribution,
    onChange: renderNotice,
  });
  retry.addEventListener("click", () => base.retry());

  const layer = layerGroup().addTo(map);
  const shown = new Map<string, Shown>();
  let located: Located[] = [];

  function groupClicked(group: Group<Located>) {
    const records = group.members.map((m) => m.item);
    if (samePoint(group) || map.getZoom() >= UNGROUPED_FROM_ZOOM - 1) {
      leafletPopup({ maxWidth: 320, maxHeight: 320 })
        .setLatLng([group.latitude, group.longitude])
        .setContent(groupPopupContent(records))
        .openOn(map);
      return;
    }
    const corners = group.members.map((m) => [m.latitude, m.longitude] as LatLngTuple);
    map.fitBounds(latLngBounds(corners), { padding: [48, 48], maxZoom: UNGROUPED_FROM_ZOOM });
  }

  function draw() {
    const zoom = map.getZoom();
    const placed: Placed<Located>[] = located.map((record) => {
      const point = map.project([record.latitude, record.longitude], zoom);
      return {
        key: recordKey(record.id),
        item: record,
        latitude: record.latitude,
        longitude: record.longitude,
        x: point.x,
        y: point.y,
      };
    });
    const groups =
      zoom >= UNGROUPED_FROM_ZOOM
        ? placed.map((p) => ({
            key: p.key,
            members: [p],
            latitude: p.latitude,
            longitude: p.longitude,
          }))
        : groupByCell(placed, CELL_PX);
    const keep = new Set<string>();
    for (const group of groups) {
      const records = group.members.map((m) => m.item);
      const single = records.length === 1 ? records[0] : undefined;
      const key = single ? `r:${group.key}` : `g:${zoom}:${group.key}`;
      keep.add(key);
      const existing = shown.get(key);
      if (existing && sameRecords(existing.records, records)) continue;
      existing?.marker.remove();
      let marker: Marker;
      if (single) {
        const label = pinLabel(single);
        marker = leafletMarker([group.latitude, group.longitude], {
          icon: pinIcon(single),
          title: label,
          alt: label,
          keyboard: true,
          riseOnHover: true,
          // Where markers overlap, the most urgent is drawn on top.
          zIndexOffset: (PRIORITY_KINDS.length - priorityRank(single.priorite)) * 1000,
        }).bindPopup(popupContent(single));
      } else {
        const label = clusterLabel(records);
        marker = leafletMarker([group.latitude, group.longitude], {
          icon: clusterIcon(records),
          title: label,
          alt: label,
          keyboard: true,
          zIndexOffset: 10_000,
        });
        marker.on("click", () => groupClicked(group));
      }
      marker.addTo(layer);
      shown.set(key, { marker, records });
    }
    for (const [key, entry] of shown) {
      if (!keep.has(key)) {
        entry.marker.remove();
        shown.delete(key);
      }
    }
  }
  map.on("zoomend", draw);

  return {
    update(records) {
      located = records.filter(hasPosition);
      const missing = records.filter((record) => !hasPosition(record));
      const counts = new Map<string, number>();
      for (const record of located) {
        const id = territoryOf(record.latitude, record.longitude);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      for (const t of TERRITORIES) {
        const option = territoryOptions.get(t.id);
        if (option) setText(option, `${t.label} (${counts.get(t.id) ?? 0})`);
      }
      const away = counts.get(ELSEWHERE) ?? 0;
      setText(elsewhere, away > 0 ? `${away} hors de ces territoires` : "");
      // Open once on the territory that has the markers; a wall screen must not jump later.
      if (!chosen && located.length > 0) show(defaultTerritory(counts));
      draw();
      setText(asideTitle, `Sans position (${missing.length})`);
      if (missing.length === 0) {
        replaceChildren(
          asideList,
          h("li", {
            class: "map__aside-empty",
            text: "Toutes les interventions affichées sont sur la carte.",
          }),
        );
        return;
      }
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
