/**
 * "État du relais": what an operator without Prometheus needs to see that the chain works.
 * Shown only when `/api/status` answers 200 (admin token, or a loopback relay without auth).
 */

import type { RelayStatus } from "../core/parse.ts";
import { formatAgeIso } from "../core/relative-time.ts";
import { h, replaceChildren } from "./dom.ts";

export interface RelayStatusPanel {
  element: HTMLElement;
  render(status: RelayStatus | null): void;
  /** The stream is down: the last figures are no longer news, say so in the summary. */
  setReachable(reachable: boolean): void;
}

function row(label: string, value: string, state: "ok" | "warn" | "bad" | "neutral" = "neutral") {
  const mark = { ok: "✓ ", warn: "! ", bad: "✕ ", neutral: "" }[state];
  return h(
    "div",
    { class: `relay__row relay__row--${state}` },
    h("dt", { text: label }),
    h(
      "dd",
      {},
      mark
        ? h("span", { class: "relay__mark", attrs: { "aria-hidden": "true" }, text: mark })
        : null,
      value,
    ),
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n > 1 ? "s" : ""}`;
}

/** `onOpen`: the panel was unfolded, so its figures should be fetched again now. */
export function createRelayStatusPanel(onOpen: () => void = () => {}): RelayStatusPanel {
  const summary = h("summary", { class: "relay__summary", text: "État du relais" });
  const list = h("dl", { class: "relay__list" });
  const element = h("details", { class: "relay", attrs: { hidden: true } }, summary, list);
  element.addEventListener("toggle", () => {
    if (element.open) onOpen();
  });

  let reachable = true;
  let ready = true;
  function renderSummary() {
    const state = !reachable ? "injoignable" : ready ? "opérationnel" : "dégradé";
    summary.textContent = `État du relais : ${state}`;
    element.classList.toggle("relay--degraded", !reachable || !ready);
    element.classList.toggle("relay--unreachable", !reachable);
  }

  return {
    element,
    setReachable(next) {
      if (next === reachable) return;
      reachable = next;
      renderSummary();
    },
    render(status) {
      element.hidden = status === null;
      if (!status) return;
      const now = Date.now();
      ready = status.ready === true;
      renderSummary();
      const rows: HTMLElement[] = [];
      const details = [status.store, status.version ? `v${status.version}` : null].filter(Boolean);
      rows.push(
        row(
          "Relais",
          `${ready ? "prêt" : "pas prêt"}${details.length ? ` (${details.join(", ")})` : ""}`,
          ready ? "ok" : "bad",
        ),
      );
      if (status.startedAt) {
        rows.push(row("Démarré", formatAgeIso(status.startedAt, now) ?? status.startedAt));
      }
      if (status.subscribers !== null)
        rows.push(row("Abonnés connectés", String(status.subscribers)));
      if (status.eventsLastHour !== null) {
        rows.push(row("Événements (dernière heure)", String(status.eventsLastHour)));
      }
      rows.push(
        row(
          "Dernier webhook reçu",
          status.lastWebhookAt
            ? (formatAgeIso(status.lastWebhookAt, now) ?? status.lastWebhookAt)
            : "aucun depuis le démarrage",
          status.lastWebhookAt ? "ok" : "warn",
        ),
      );
      const rec = status.lastReconciliation;
      if (rec) {
        const when = formatAgeIso(rec.at, now) ?? "date inconnue";
        const counts = `+${rec.added ?? 0} ajoutées, ${rec.updated ?? 0} modifiées, −${rec.removed ?? 0} retirées`;
        rows.push(
          row(
            "Dernière réconciliation",
            rec.ok === false
              ? `${when} — échec : ${rec.error ?? "erreur inconnue"}`
              : `${when} — réussie (${counts})`,
            rec.ok === false ? "bad" : "ok",
          ),
        );
      } else {
        rows.push(row("Dernière réconciliation", "pas encore effectuée"));
      }
      if (status.alerts) {
        const { pending, sent, failed } = status.alerts;
        rows.push(
          row(
            "Alertes Tchap",
            `${pending ?? 0} en attente · ${failed ?? 0} en échec · ${plural(sent ?? 0, "envoyée")}`,
            (failed ?? 0) > 0 ? "bad" : (pending ?? 0) > 0 ? "warn" : "ok",
          ),
        );
      }
      replaceChildren(list, ...rows);
    },
  };
}
