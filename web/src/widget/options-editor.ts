/** The widget's "Ouvrir la configuration" panel: title and default tab, saved on the section. */
import { h } from "../ui/dom.ts";
import { TAB_IDS } from "../ui/tabs.ts";
import type { WidgetOptions } from "./columns.ts";

const TAB_LABELS: Record<string, string> = {
  liste: "Liste",
  carte: "Carte",
  chronologie: "Chronologie",
  statistiques: "Statistiques",
};

export function openOptionsEditor(
  current: WidgetOptions,
  save: (options: WidgetOptions) => Promise<void>,
) {
  document.querySelector("dialog.options")?.remove();
  const title = h("input", {
    class: "field__control",
    attrs: { id: "opt-title", type: "text", maxlength: 120 },
  });
  title.value = current.title ?? "";
  const tab = h(
    "select",
    { class: "field__control", attrs: { id: "opt-tab" } },
    ...TAB_IDS.map((id) => h("option", { attrs: { value: id }, text: TAB_LABELS[id] ?? id })),
  );
  tab.value = current.defaultTab ?? "liste";
  const error = h("p", { class: "options__error", attrs: { role: "alert" } });
  const cancel = h("button", {
    class: "btn btn--ghost",
    attrs: { type: "button" },
    text: "Annuler",
  });
  const submit = h("button", {
    class: "btn btn--primary",
    attrs: { type: "submit" },
    text: "Enregistrer",
  });
  const form = h(
    "form",
    { class: "options__form" },
    h("h2", { text: "Configuration du widget" }),
    h(
      "div",
      { class: "field" },
      h("label", { class: "field__label", attrs: { for: "opt-title" }, text: "Titre" }),
      title,
    ),
    h(
      "div",
      { class: "field" },
      h("label", {
        class: "field__label",
        attrs: { for: "opt-tab" },
        text: "Onglet affiché à l'ouverture",
      }),
      tab,
    ),
    error,
    h("div", { class: "options__actions" }, cancel, submit),
  );
  const dialog = h("dialog", { class: "options" }, form);
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save({ title: title.value.trim() || null, defaultTab: tab.value })
      .then(() => dialog.close())
      .catch(() => {
        error.textContent = "Enregistrement impossible (droits insuffisants sur le document ?).";
      });
  });
  document.body.append(dialog);
  dialog.showModal();
  title.focus();
}
