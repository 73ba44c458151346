/**
 * Keeps every "il y a …" on the page fresh: elements made by `ageElement` carry their instant in
 * `datetime` and are rewritten by one shared timer, not one timer per card.
 */
import { formatAge, formatDateTime } from "../core/relative-time.ts";
import { h } from "./dom.ts";

export function ageElement(iso: string | null, prefix = ""): HTMLTimeElement {
  const element = h("time", { class: "age" });
  setAge(element, iso, prefix);
  return element;
}

export function setAge(element: HTMLTimeElement, iso: string | null, prefix = "") {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  element.dataset.prefix = prefix;
  if (Number.isNaN(ms)) {
    element.removeAttribute("datetime");
    element.textContent = prefix ? `${prefix}date inconnue` : "date inconnue";
    element.title = "";
    return;
  }
  element.dateTime = new Date(ms).toISOString();
  element.title = formatDateTime(ms);
  element.textContent = prefix + formatAge(ms, Date.now());
}

/** Refreshes all ages under `root` every `periodMs`; returns a stop function. */
export function keepAgesFresh(root: ParentNode, periodMs = 15_000): () => void {
  const timer = setInterval(() => {
    const now = Date.now();
    for (const element of root.querySelectorAll<HTMLTimeElement>("time.age[datetime]")) {
      const text = (element.dataset.prefix ?? "") + formatAge(Date.parse(element.dateTime), now);
      if (element.textContent !== text) element.textContent = text;
    }
  }, periodMs);
  return () => clearInterval(timer);
}
