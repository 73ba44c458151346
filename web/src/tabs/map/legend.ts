/** The map's legend: what colours, glyphs, hollow markers and groups mean. */
import { PRIORITY_GLYPH, type PriorityKind } from "../../core/vocabulary.ts";
import { h } from "../../ui/dom.ts";
import { OUTLINES_ATTRIBUTION } from "./base-layer.ts";

const PRIORITIES: readonly [PriorityKind, string][] = [
  ["urgente", "Urgente"],
  ["haute", "Haute"],
  ["normale", "Normale"],
  ["basse", "Basse"],
];

function swatch(className: string, text: string): HTMLElement {
  return h("span", { class: `pin ${className}`, attrs: { "aria-hidden": "true" }, text });
}

export function createLegend(): HTMLElement {
  return h(
    "section",
    { class: "map-legend", attrs: { "aria-labelledby": "map-legend-title" } },
    h("h2", { class: "map-legend__title", attrs: { id: "map-legend-title" }, text: "Légende" }),
    h(
      "ul",
      { class: "map-legend__items" },
      ...PRIORITIES.map(([kind, label]) =>
        h("li", {}, swatch(`pin--${kind}`, PRIORITY_GLYPH[kind]), `Priorité ${label}`),
      ),
      h(
        "li",
        {},
        swatch("pin--normale", PRIORITY_GLYPH.normale),
        "Position saisie dans Grist ou trouvée d'après l'adresse",
      ),
      h(
        "li",
        {},
        swatch("pin--normale pin--approx", PRIORITY_GLYPH.normale),
        "Position approximative : centre du département",
      ),
      h(
        "li",
        {},
        swatch("pin--cluster pin--normale", "3"),
        "Groupe d'interventions proches : cliquer pour zoomer",
      ),
    ),
    h("p", { class: "map-legend__source", text: `${OUTLINES_ATTRIBUTION} (fond hors ligne).` }),
  );
}
