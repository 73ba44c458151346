/**
 * The "?" help panel: the legend of statuts, priorités, alarms and the connection indicator,
 * drawn from the vocabulary (core/legend.ts) with the same badge functions as the cards.
 *
 * A native modal <dialog>: the browser keeps focus inside it, closes it on Escape and makes the
 * page behind it inert. Its content is built at each opening and removed at closing, so no
 * sample badge or indicator sits hidden in the page where it could be counted as data.
 */
import {
  CONNECTION_LEGEND,
  type ConnectionLegendEntry,
  type LegendEntry,
  POSITION_LEGEND,
  type PositionLegendEntry,
  PRIORITY_LEGEND,
  STATUS_LEGEND,
} from "../core/legend.ts";
import { priorityBadge, statusBadge } from "./badges.ts";
import { h, replaceChildren } from "./dom.ts";

export interface HelpPanelOptions {
  /** How long an unacknowledged alarm stays on this screen (0: until clicked). */
  alarmHoldMs: number;
}

export interface HelpPanel {
  button: HTMLButtonElement;
  dialog: HTMLDialogElement;
  open(): void;
}

const TITLE_ID = "aide-titre";

function badgeItem(
  group: "statut" | "priorite",
  entry: LegendEntry<string>,
  badge: HTMLElement,
): HTMLLIElement {
  return h(
    "li",
    { class: "legend__item", attrs: { "data-legend": group, "data-kind": entry.kind } },
    h("span", { class: "legend__sample" }, badge),
    h("span", { class: "legend__meaning", text: entry.meaning }),
  );
}

function connectionItem(entry: ConnectionLegendEntry): HTMLLIElement {
  return h(
    "li",
    { class: "legend__item", attrs: { "data-legend": "connexion", "data-kind": entry.kind } },
    h(
      "span",
      { class: "legend__sample" },
      h(
        "span",
        { class: `legend-conn legend-conn--${entry.kind}` },
        h("span", { class: "legend-conn__dot", attrs: { "aria-hidden": "true" } }),
        entry.label,
      ),
    ),
    h(
      "span",
      { class: "legend__meaning" },
      entry.meaning,
      " ",
      h("strong", { text: "À faire : " }),
      entry.action,
    ),
  );
}

function positionItem(entry: PositionLegendEntry): HTMLLIElement {
  return h(
    "li",
    {
      class: "legend__item",
      attrs: { "data-legend": "position", "data-kind": entry.source ?? "aucune" },
    },
    h("span", {
      class: "legend__sample legend__mark",
      attrs: { "aria-hidden": "true" },
      text: entry.mark,
    }),
    h("span", { class: "legend__meaning", text: entry.meaning }),
  );
}

function section(title: string, ...content: HTMLElement[]): HTMLElement {
  return h("section", { class: "help__section" }, h("h3", { text: title }), ...content);
}

/** "jusqu'au clic sur « Vu »", with this screen's hold time when there is one. */
function alarmStays(holdMs: number): string {
  if (holdMs <= 0) return "jusqu'au clic sur « Vu »";
  const minutes = holdMs / 60_000;
  const duration = Number.isInteger(minutes) ? `${minutes} min` : `${Math.round(holdMs / 1000)} s`;
  return `jusqu'au clic sur « Vu », ou ${duration} sur cet écran`;
}

function content(close: HTMLButtonElement, options: HelpPanelOptions): HTMLElement[] {
  const blocked = STATUS_LEGEND.find((entry) => entry.kind === "bloque")?.sample;
  const urgent = PRIORITY_LEGEND.find((entry) => entry.kind === "urgente")?.sample;
  return [
    h(
      "div",
      { class: "help__head" },
      h("h2", { attrs: { id: TITLE_ID }, text: "Aide : lire le tableau de bord" }),
      close,
    ),
    section(
      "Statut",
      h(
        "ul",
        { class: "legend" },
        ...STATUS_LEGEND.map((entry) => badgeItem("statut", entry, statusBadge(entry.sample))),
      ),
    ),
    section(
      "Priorité (couleur du bord gauche de la fiche et de l'épingle sur la carte)",
      h(
        "ul",
        { class: "legend" },
        ...PRIORITY_LEGEND.map((entry) =>
          badgeItem("priorite", entry, priorityBadge(entry.sample)),
        ),
      ),
    ),
    section(
      "Alarmes et changements",
      h(
        "p",
        {},
        `Une alarme se déclenche quand une intervention devient « ${blocked} » ou « ${urgent} », à sa création ou à une modification. Elle reste dans les notifications ${alarmStays(options.alarmHoldMs)}, et sonne si le son est activé. Une intervention terminée ou annulée n'en déclenche jamais.`,
      ),
      h(
        "p",
        {},
        "Une fiche qui vient de changer s'éclaire quelques secondes : en bleu pour un changement ordinaire, en rouge pour une alarme. La mention « mis à jour il y a … » est l'heure de la dernière modification de la ligne dans Grist.",
      ),
    ),
    section(
      "Carte : d'où vient la position",
      h("ul", { class: "legend" }, ...POSITION_LEGEND.map(positionItem)),
      h(
        "p",
        {},
        "Une épingle a la couleur et le symbole de la priorité. Un disque numéroté regroupe des interventions proches : cliquez dessus pour zoomer.",
      ),
    ),
    section(
      "Indicateur de connexion (en haut à droite)",
      h("ul", { class: "legend" }, ...CONNECTION_LEGEND.map(connectionItem)),
    ),
    h(
      "p",
      { class: "help__foot" },
      "Raccourci : touche « ? » pour ouvrir cette aide, Échap pour la fermer.",
    ),
  ];
}

/** Typing "?" in a search field must stay a question mark. */
function isTypingTarget(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

export function createHelpPanel(options: HelpPanelOptions): HelpPanel {
  const button = h(
    "button",
    {
      class: "btn btn--ghost help-button",
      attrs: { type: "button", "aria-haspopup": "dialog", title: "Légende et aide (touche ?)" },
    },
    h("span", { attrs: { "aria-hidden": "true" }, text: "? " }),
    "Aide",
  );
  const dialog = h("dialog", { class: "help", attrs: { "aria-labelledby": TITLE_ID } });
  const close = h("button", {
    class: "btn help__close",
    attrs: { type: "button" },
    text: "Fermer",
  });
  let returnFocus: HTMLElement | null = null;

  function open() {
    if (dialog.open) return;
    returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    replaceChildren(dialog, ...content(close, options));
    button.setAttribute("aria-expanded", "true");
    dialog.showModal();
    close.focus();
  }

  close.addEventListener("click", () => dialog.close());
  // A click on the backdrop lands on the dialog element itself, outside its content box.
  dialog.addEventListener("click", (event) => {
    if (event.target !== dialog) return;
    const box = dialog.getBoundingClientRect();
    const inside =
      event.clientX >= box.left &&
      event.clientX <= box.right &&
      event.clientY >= box.top &&
      event.clientY <= box.bottom;
    if (!inside) dialog.close();
  });
  dialog.addEventListener("close", () => {
    replaceChildren(dialog);
    button.setAttribute("aria-expanded", "false");
    (returnFocus ?? button).focus();
    returnFocus = null;
  });
  button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", open);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "?" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTypingTarget(event.target)) return;
    event.preventDefault();
    open();
  });
  return { button, dialog, open };
}
