/**
 * The active list: cards keyed by record id, reused across renders (moved, not recreated) so
 * that focus, scroll position and the flash animation survive a live update.
 */
import type { Intervention } from "../core/types.ts";
import { createCard, fillCard } from "./card.ts";
import { h, setText } from "./dom.ts";

export interface InterventionList {
  element: HTMLElement;
  render(
    records: readonly Intervention[],
    context: { totalActive: number; filtered: boolean; closedWanted?: boolean },
  ): void;
  flash(key: string, alarm: boolean): void;
}

/** A wall screen does not need 10 000 cards; past this the filters are the way in. */
const MAX_CARDS = 500;
const FLASH_MS = 2_500;

export function createInterventionList(): InterventionList {
  const summary = h("p", { class: "list__summary", attrs: { "aria-live": "off" } });
  const grid = h("div", { class: "list__grid" });
  const empty = h("p", { class: "list__empty", attrs: { hidden: true } });
  const more = h("p", { class: "list__more", attrs: { hidden: true } });
  // The cards' titles are h3: this h2 keeps the outline in order for screen readers.
  const heading = h("h2", {
    class: "sr-only",
    attrs: { id: "liste-titre" },
    text: "Interventions actives",
  });
  const element = h(
    "section",
    { class: "list", attrs: { "aria-labelledby": "liste-titre" } },
    heading,
    summary,
    grid,
    empty,
    more,
  );
  const cards = new Map<string, { card: HTMLElement; record: Intervention }>();
  const flashTimers = new Map<string, ReturnType<typeof setTimeout>>();

  function render(
    records: readonly Intervention[],
    context: { totalActive: number; filtered: boolean; closedWanted?: boolean },
  ) {
    const shown = records.slice(0, MAX_CARDS);
    const keep = new Set<string>();
    let previous: Element | null = null;
    for (const record of shown) {
      const key = String(record.id);
      keep.add(key);
      let entry = cards.get(key);
      if (!entry) {
        entry = { card: createCard(record), record };
        cards.set(key, entry);
      } else if (entry.record !== record) {
        fillCard(entry.card, record);
        entry.record = record;
      }
      // Move only when out of place: DOM moves restart CSS animations and lose focus.
      const expected: Element | null = previous
        ? previous.nextElementSibling
        : grid.firstElementChild;
      if (expected !== entry.card) grid.insertBefore(entry.card, expected);
      previous = entry.card;
    }
    for (const [key, entry] of cards) {
      if (!keep.has(key)) {
        entry.card.remove();
        cards.delete(key);
      }
    }
    const count = records.length;
    setText(
      summary,
      context.filtered
        ? `${count} intervention${count > 1 ? "s" : ""} active${count > 1 ? "s" : ""} sur ${context.totalActive} (filtres appliqués)`
        : `${count} intervention${count > 1 ? "s" : ""} active${count > 1 ? "s" : ""}`,
    );
    empty.hidden = count > 0;
    setText(
      empty,
      context.closedWanted
        ? "Aucune intervention active avec ce statut : les interventions terminées sont listées ci-dessous."
        : context.filtered
          ? "Aucune intervention active ne correspond aux filtres."
          : "Aucune intervention active.",
    );
    more.hidden = count <= MAX_CARDS;
    setText(more, `${count - MAX_CARDS} autres interventions masquées : affinez les filtres.`);
  }

  function flash(key: string, alarm: boolean) {
    const entry = cards.get(key);
    if (!entry) return;
    const card = entry.card;
    clearTimeout(flashTimers.get(key));
    card.classList.remove("card--flash", "card--flash-alarm");
    // Force a style flush so re-adding the class restarts the animation.
    void card.offsetWidth;
    card.classList.add("card--flash");
    if (alarm) card.classList.add("card--flash-alarm");
    flashTimers.set(
      key,
      setTimeout(() => {
        card.classList.remove("card--flash", "card--flash-alarm");
        flashTimers.delete(key);
      }, FLASH_MS),
    );
  }

  return { element, render, flash };
}
