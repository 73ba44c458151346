/**
 * Change notifications. One polite live region for ordinary changes and one assertive region
 * for urgent or blocked ones, so a screen reader interrupts only for what matters.
 */
import { h } from "./dom.ts";

const VISIBLE_MAX = 4;
const TOAST_MS = 7_000;
const ALARM_TOAST_MS = 15_000;

export interface Toasts {
  element: HTMLElement;
  show(text: string, options?: { alarm?: boolean; title?: string }): void;
}

export function createToasts(): Toasts {
  const polite = h("div", {
    class: "toasts__region",
    attrs: { "aria-live": "polite", role: "status" },
  });
  const assertive = h("div", {
    class: "toasts__region",
    attrs: { "aria-live": "assertive", role: "alert" },
  });
  const element = h("div", { class: "toasts" }, assertive, polite);

  function dismiss(toast: HTMLElement) {
    toast.remove();
  }

  return {
    element,
    show(text, options = {}) {
      const close = h("button", {
        class: "toast__close",
        attrs: { type: "button", "aria-label": "Fermer la notification" },
        text: "×",
      });
      const toast = h(
        "div",
        { class: options.alarm ? "toast toast--alarm" : "toast" },
        options.title ? h("strong", { class: "toast__title", text: options.title }) : null,
        h("span", { class: "toast__text", text }),
        close,
      );
      close.addEventListener("click", () => dismiss(toast));
      const region = options.alarm ? assertive : polite;
      region.append(toast);
      // Bound what a burst (a replay after an outage) can stack on screen.
      const all = element.querySelectorAll(".toast");
      for (let i = 0; i < all.length - VISIBLE_MAX; i++) all[i]?.remove();
      setTimeout(() => dismiss(toast), options.alarm ? ALARM_TOAST_MS : TOAST_MS);
    },
  };
}
