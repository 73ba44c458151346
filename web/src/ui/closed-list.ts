/**
 * "Terminées aujourd'hui": today's closed interventions (Terminé, Annulé), folded by default
 * under the active list so that choosing "Terminé" in the Statut filter shows something.
 */
import type { Intervention } from "../core/types.ts";
import { createCard } from "./card.ts";
import { h, replaceChildren, setText } from "./dom.ts";

/** Closed cards are history, not work: a few dozen is all the screen needs. */
const MAX_CARDS = 100;

export interface ClosedList {
  element: HTMLDetailsElement;
  /** `records`: closed and filtered, most recent first; `older`: closed before today. */
  render(records: readonly Intervention[], context: { older: number; open: boolean }): void;
}

export function createClosedList(): ClosedList {
  // A heading inside the summary keeps the outline h1 → h2 → h3 (the cards' titles).
  const title = h("h2", { class: "closed__title" });
  const summary = h("summary", { class: "closed__summary" }, title);
  const grid = h("div", { class: "list__grid" });
  const note = h("p", { class: "closed__note" });
  const element = h("details", { class: "closed" }, summary, grid, note);
  // What the user chose wins over the automatic opening that follows the Statut filter.
  let userToggled = false;
  let settingOpen = false;
  element.addEventListener("toggle", () => {
    if (!settingOpen) userToggled = true;
  });
  let shown: readonly Intervention[] = [];

  return {
    element,
    render(records, context) {
      // The "Terminées" counter counts every closed one: say where the difference went.
      const older =
        context.older > 0
          ? ` · ${context.older} plus ancienne${context.older > 1 ? "s" : ""} non affichée${context.older > 1 ? "s" : ""}`
          : "";
      setText(title, `Terminées aujourd'hui (${records.length})${older}`);
      if (!userToggled && element.open !== context.open) {
        settingOpen = true;
        element.open = context.open;
        // The toggle event fires asynchronously: clear the flag after it.
        setTimeout(() => {
          settingOpen = false;
        }, 0);
      }
      const next = records.slice(0, MAX_CARDS);
      const same = next.length === shown.length && next.every((record, i) => record === shown[i]);
      if (!same) replaceChildren(grid, ...next.map((record) => createCard(record)));
      shown = next;
      const parts: string[] = [];
      if (records.length === 0) parts.push("Aucune intervention terminée aujourd'hui.");
      if (records.length > MAX_CARDS)
        parts.push(`${records.length - MAX_CARDS} autres non affichées.`);
      note.hidden = parts.length === 0;
      setText(note, parts.join(" "));
    },
  };
}
