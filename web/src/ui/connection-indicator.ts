/** The header's connection indicator: a shape, a colour and, above all, words. */
import type { ConnectionView } from "../core/connection-status.ts";
import { h, setText } from "./dom.ts";

export interface ConnectionIndicator {
  element: HTMLElement;
  render(view: ConnectionView): void;
}

export function createConnectionIndicator(): ConnectionIndicator {
  const dot = h("span", { class: "conn__dot", attrs: { "aria-hidden": "true" } });
  const label = h("span", { class: "conn__label", text: "Connexion…" });
  // role=status: assistive tech announces changes politely, without stealing focus.
  const element = h(
    "div",
    { class: "conn conn--connecting", attrs: { role: "status", "data-state": "connecting" } },
    dot,
    label,
  );
  return {
    element,
    render(view) {
      if (element.dataset.state !== view.kind) {
        element.dataset.state = view.kind;
        element.className = `conn conn--${view.kind}`;
      }
      setText(label, view.label);
    },
  };
}
