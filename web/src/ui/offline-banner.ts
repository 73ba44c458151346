/**
 * The banner shown while the stream is down: the data on screen is a past state, dated, and a
 * button reconnects now instead of waiting for the next backoff attempt.
 */
import { h, setText } from "./dom.ts";

export interface OfflineState {
  /** When the last frame arrived ("14:02:31"), or null if none ever did. */
  dataAt: string | null;
  /** The connection indicator's words, for the details. */
  reason: string;
}

export interface OfflineBanner {
  element: HTMLElement;
  render(state: OfflineState | null): void;
}

export function createOfflineBanner(onRetry: () => void): OfflineBanner {
  const title = h("strong", { class: "offline__title", text: "Relais injoignable" });
  const text = h("span", { class: "offline__text" });
  const retry = h("button", {
    class: "btn btn--primary offline__retry",
    attrs: { type: "button" },
    text: "Réessayer maintenant",
  });
  retry.addEventListener("click", onRetry);
  const element = h(
    "section",
    { class: "offline", attrs: { "aria-label": "Connexion au relais", hidden: true } },
    h("p", { class: "offline__line" }, title, " — ", text),
    retry,
  );
  return {
    element,
    render(state) {
      element.hidden = state === null;
      if (!state) return;
      setText(
        text,
        state.dataAt === null
          ? "aucune donnée reçue pour l'instant."
          : `données au ${state.dataAt}, elles ont pu changer depuis.`,
      );
      retry.title = state.reason;
    },
  };
}
