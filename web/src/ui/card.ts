/** One intervention as a card. Rebuilt in place on change so the flash class can be applied. */
import type { Intervention } from "../core/types.ts";
import { isAlarming, priorityKind, statusKind } from "../core/vocabulary.ts";
import { priorityBadge, statusBadge } from "./badges.ts";
import { append, h, replaceChildren } from "./dom.ts";
import { ageElement } from "./relative-times.ts";

export function createCard(record: Intervention): HTMLElement {
  const card = h("article", { class: "card" });
  fillCard(card, record);
  return card;
}

export function fillCard(card: HTMLElement, record: Intervention) {
  card.className = [
    "card",
    `card--prio-${priorityKind(record.priorite)}`,
    `card--status-${statusKind(record.statut)}`,
    isAlarming(record) ? "card--alarm" : "",
    // Keep a running flash through a re-render.
    card.classList.contains("card--flash") ? "card--flash" : "",
    card.classList.contains("card--flash-alarm") ? "card--flash-alarm" : "",
  ]
    .filter(Boolean)
    .join(" ");
  card.dataset.key = String(record.id);
  const titleId = `card-title-${cssSafe(String(record.id))}`;
  card.setAttribute("aria-labelledby", titleId);

  const title = h(
    "h3",
    { class: "card__ref", attrs: { id: titleId } },
    record.reference?.trim() || `Ligne ${record.id}`,
  );
  const header = h(
    "header",
    { class: "card__head" },
    title,
    h("div", { class: "card__badges" }, priorityBadge(record.priorite), statusBadge(record.statut)),
  );
  const place = h(
    "p",
    { class: "card__place" },
    h("span", { class: "card__loc" }, record.localisation?.trim() || "Localisation non renseignée"),
    record.departement
      ? h("span", { class: "card__dep", attrs: { title: "Département" } }, record.departement)
      : null,
  );
  const facts = h(
    "dl",
    { class: "card__facts" },
    h("div", {}, h("dt", { text: "Agent" }), h("dd", {}, record.agent?.trim() || "—")),
    h("div", {}, h("dt", { text: "Type" }), h("dd", {}, record.type?.trim() || "—")),
  );
  const comment = record.commentaire?.trim()
    ? h("p", { class: "card__comment" }, record.commentaire)
    : null;
  const footer = h(
    "footer",
    { class: "card__foot" },
    ageElement(record.derniereMaj, "mis à jour "),
  );
  replaceChildren(card);
  append(card, header, place, facts, comment, footer);
}

/** Ids may be strings from the guide's format: keep only characters valid in an id. */
function cssSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.codePointAt(0)?.toString(16)}`);
}
