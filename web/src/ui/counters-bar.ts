/**
 * The six counters, over what the page's filters select; when a filter is on, the national
 * total is shown under the Total tile as secondary information.
 */
import type { Counters } from "../core/counters.ts";
import { h, setText } from "./dom.ts";

const TILES: readonly { key: keyof Counters; label: string; kind: string }[] = [
  { key: "total", label: "Total", kind: "total" },
  { key: "enCours", label: "En cours", kind: "en-cours" },
  { key: "enAttente", label: "En attente", kind: "en-attente" },
  { key: "bloque", label: "Bloquées", kind: "bloque" },
  { key: "termine", label: "Terminées", kind: "termine" },
  { key: "urgentes", label: "Urgentes", kind: "urgentes" },
];

export interface CountersBar {
  element: HTMLElement;
  /** `nationalTotal`: every record regardless of filters, or null when no filter is on. */
  render(counters: Counters, nationalTotal: number | null): void;
}

export function createCountersBar(): CountersBar {
  const values = new Map<keyof Counters, HTMLElement>();
  const national = h("span", { class: "counter__national", attrs: { hidden: true } });
  const tiles = TILES.map(({ key, label, kind }) => {
    const value = h("span", { class: "counter__value", text: "–" });
    values.set(key, value);
    return h(
      "li",
      { class: `counter counter--${kind}`, attrs: { "data-counter": key } },
      value,
      h("span", { class: "counter__label", text: label }),
      key === "total" ? national : null,
    );
  });
  const element = h("ul", { class: "counters", attrs: { "aria-label": "Compteurs" } }, ...tiles);
  return {
    element,
    render(counters, nationalTotal) {
      national.hidden = nationalTotal === null;
      setText(national, nationalTotal === null ? "" : `sur ${nationalTotal} au total`);
      element.classList.toggle("counters--filtered", nationalTotal !== null);
      for (const { key } of TILES) {
        const value = values.get(key);
        if (!value) continue;
        setText(value, String(counters[key]));
        value.parentElement?.classList.toggle("counter--nonzero", counters[key] > 0);
      }
    },
  };
}
