/**
 * Markers: one pin per intervention, coloured by priority AND carrying the priority's glyph so
 * colour is never the only cue; hollow when the position is approximate (the département's
 * point); a numbered disc for a group. Record text is set as text, never parsed.
 */
import { divIcon } from "leaflet/dist/leaflet-src.esm.js";
import type { Intervention } from "../../core/types.ts";
import { PRIORITY_GLYPH, priorityKind, priorityRank } from "../../core/vocabulary.ts";
import { priorityBadge, statusBadge } from "../../ui/badges.ts";
import { h } from "../../ui/dom.ts";

export function isApproximate(record: Intervention): boolean {
  return record.positionSource === "departement";
}

function referenceOf(record: Intervention): string {
  return record.reference ?? `Ligne ${record.id}`;
}

export function pinLabel(record: Intervention): string {
  const where = isApproximate(record) ? ", position approximative" : "";
  return `${referenceOf(record)} — priorité ${record.priorite ?? "inconnue"}, ${record.statut ?? "sans statut"}${where}`;
}

export function pinIcon(record: Intervention) {
  const kind = priorityKind(record.priorite);
  // Leaflet accepts an element for `html`, so the glyph is set as text, not parsed.
  const glyph = h("span", {
    class: "pin__glyph",
    attrs: { "aria-hidden": "true" },
    text: PRIORITY_GLYPH[kind],
  });
  return divIcon({
    html: glyph,
    className: `pin pin--${kind}${isApproximate(record) ? " pin--approx" : ""}`,
    iconSize: [26, 26],
    iconAnchor: [13, 13],
  });
}

/** The most urgent member gives the group its colour. */
export function clusterIcon(records: readonly Intervention[]) {
  const top = [...records].sort((a, b) => priorityRank(a.priorite) - priorityRank(b.priorite))[0];
  const kind = priorityKind(top?.priorite ?? null);
  const size = records.length < 10 ? 32 : records.length < 100 ? 38 : 44;
  return divIcon({
    html: h("span", {
      class: "pin__count",
      attrs: { "aria-hidden": "true" },
      text: String(records.length),
    }),
    className: `pin pin--cluster pin--${kind}`,
    iconSize: [size, size],
    iconAnchor: [size / 2, size / 2],
  });
}

export function clusterLabel(records: readonly Intervention[]): string {
  const urgent = records.filter((r) => priorityKind(r.priorite) === "urgente").length;
  const dont = urgent > 0 ? ` dont ${urgent} urgente${urgent > 1 ? "s" : ""}` : "";
  return `${records.length} interventions${dont} — ouvrir le groupe`;
}

function positionNote(record: Intervention): HTMLElement | null {
  if (record.positionSource === "departement") {
    return h("p", {
      class: "map-popup__approx",
      text: `Position approximative : centre du département ${record.departement ?? ""} (adresse non localisée)`,
    });
  }
  if (record.positionSource === "adresse" && record.positionScore !== null) {
    const score = record.positionScore.toLocaleString("fr-FR", { maximumFractionDigits: 2 });
    return h("p", {
      class: "map-popup__source",
      text: `Position trouvée d'après l'adresse (score ${score})`,
    });
  }
  return null;
}

export function popupContent(record: Intervention): HTMLElement {
  return h(
    "div",
    { class: "map-popup" },
    h("strong", { text: referenceOf(record) }),
    h(
      "div",
      { class: "map-popup__badges" },
      priorityBadge(record.priorite),
      statusBadge(record.statut),
    ),
    h("div", { text: record.localisation ?? "" }),
    h("div", { text: [record.agent, record.type].filter(Boolean).join(" · ") }),
    record.commentaire ? h("p", { class: "map-popup__comment", text: record.commentaire }) : null,
    positionNote(record),
  );
}

/** A group on one point (a département's, or one building): its members, listed. */
export function groupPopupContent(records: readonly Intervention[]): HTMLElement {
  const sorted = [...records].sort((a, b) => priorityRank(a.priorite) - priorityRank(b.priorite));
  const approx = records.some(isApproximate);
  return h(
    "div",
    { class: "map-popup" },
    h("strong", { text: `${records.length} interventions à cet endroit` }),
    approx
      ? h("p", {
          class: "map-popup__approx",
          text: "Position approximative : centre du département (adresse non localisée)",
        })
      : null,
    h(
      "ul",
      { class: "map-popup__list" },
      ...sorted.map((record) =>
        h(
          "li",
          {},
          h("strong", { text: referenceOf(record) }),
          " ",
          priorityBadge(record.priorite),
          " ",
          statusBadge(record.statut),
          h("div", { class: "map-popup__loc", text: record.localisation ?? "" }),
        ),
      ),
    ),
  );
}
