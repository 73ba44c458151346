/** Statut and priorité shown as text plus a glyph plus a colour: never colour alone. */
import { PRIORITY_GLYPH, priorityKind, STATUS_GLYPH, statusKind } from "../core/vocabulary.ts";
import { h } from "./dom.ts";

export function statusBadge(statut: string | null): HTMLSpanElement {
  const kind = statusKind(statut);
  return h(
    "span",
    { class: `badge status status--${kind}` },
    h("span", {
      class: "badge__glyph",
      attrs: { "aria-hidden": "true" },
      text: STATUS_GLYPH[kind],
    }),
    statut?.trim() || "Sans statut",
  );
}

export function priorityBadge(priorite: string | null): HTMLSpanElement {
  const kind = priorityKind(priorite);
  return h(
    "span",
    { class: `badge prio prio--${kind}` },
    h("span", {
      class: "badge__glyph",
      attrs: { "aria-hidden": "true" },
      text: PRIORITY_GLYPH[kind],
    }),
    priorite?.trim() ? `Priorité ${priorite.trim()}` : "Priorité inconnue",
  );
}
