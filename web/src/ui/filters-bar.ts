/** The filter form. Changes apply immediately; the URL is updated by the caller. */
import {
  distinctValues,
  EMPTY_VALUE,
  type Filters,
  hasActiveFilter,
  NO_FILTERS,
  SELECT_FILTERS,
  type SelectFilter,
} from "../core/filters.ts";
import type { Intervention } from "../core/types.ts";
import { fold } from "../core/vocabulary.ts";
import { h } from "./dom.ts";

const LABELS: Readonly<Record<SelectFilter, string>> = {
  departement: "Département",
  type: "Type",
  statut: "Statut",
  priorite: "Priorité",
  agent: "Agent",
};

// Short: the label above already names the field, and narrow columns truncate long options.
const ALL_LABELS: Readonly<Record<SelectFilter, string>> = {
  departement: "Tous",
  type: "Tous",
  statut: "Tous",
  priorite: "Toutes",
  agent: "Tous",
};

export interface FiltersBar {
  element: HTMLElement;
  /** Refreshes the choices offered from the current records. */
  updateChoices(records: readonly Intervention[]): void;
  setFilters(filters: Filters): void;
}

export function createFiltersBar(
  initial: Filters,
  onChange: (filters: Filters) => void,
): FiltersBar {
  let filters = { ...initial };
  const selects = new Map<SelectFilter, HTMLSelectElement>();
  const fields = SELECT_FILTERS.map((name) => {
    const id = `filtre-${name}`;
    const select = h("select", { class: "field__control", attrs: { id, name } });
    selects.set(name, select);
    select.addEventListener("change", () => {
      filters = { ...filters, [name]: select.value };
      emit();
    });
    return h(
      "div",
      { class: "field" },
      h("label", { class: "field__label", attrs: { for: id }, text: LABELS[name] }),
      select,
    );
  });

  const search = h("input", {
    class: "field__control",
    attrs: {
      id: "filtre-q",
      name: "q",
      type: "search",
      placeholder: "Référence, lieu, commentaire…",
      autocomplete: "off",
      maxlength: 200,
    },
  });
  search.value = filters.q;
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      filters = { ...filters, q: search.value };
      emit();
    }, 200);
  });

  const reset = h("button", {
    class: "btn btn--ghost filters__reset",
    attrs: { type: "button" },
    text: "Réinitialiser",
  });
  reset.addEventListener("click", () => {
    filters = { ...NO_FILTERS };
    search.value = "";
    for (const [name, select] of selects) select.value = filters[name];
    emit();
  });

  const form = h(
    "form",
    { class: "filters", attrs: { role: "search", "aria-label": "Filtres" } },
    ...fields,
    h(
      "div",
      { class: "field field--search" },
      h("label", { class: "field__label", attrs: { for: "filtre-q" }, text: "Recherche" }),
      search,
    ),
    reset,
  );
  // Enter in the search box must not navigate (and CSP form-action would refuse it anyway).
  form.addEventListener("submit", (event) => event.preventDefault());

  // On a phone the filters fold away behind a summary saying how many are active; on wider
  // screens the summary is hidden by CSS and the box is always open.
  const summary = h("summary", { class: "filters-box__summary" });
  const element = h("details", { class: "filters-box" }, summary, form);
  const narrow = window.matchMedia("(max-width: 560px)");
  element.open = !narrow.matches || hasActiveFilter(filters);
  narrow.addEventListener("change", () => {
    if (!narrow.matches) element.open = true;
  });

  function renderSummary() {
    const active = [...SELECT_FILTERS, "q" as const].filter((name) => filters[name] !== "").length;
    summary.textContent =
      active === 0 ? "Filtres" : `Filtres (${active} actif${active > 1 ? "s" : ""})`;
  }
  renderSummary();

  function emit() {
    reset.disabled = !hasActiveFilter(filters);
    renderSummary();
    onChange({ ...filters });
  }

  let lastRecords: readonly Intervention[] = [];
  function updateChoices(records: readonly Intervention[]) {
    lastRecords = records;
    for (const [name, select] of selects) {
      const { values, hasEmpty } = distinctValues(records, name, filters[name]);
      const wanted = [ALL_LABELS[name], ...values, ...(hasEmpty ? [EMPTY_VALUE] : [])].join(
        "\u0000",
      );
      // Rebuilding a select under the user's pointer closes it: only when choices changed.
      if (select.dataset.choices !== wanted) {
        select.dataset.choices = wanted;
        select.replaceChildren(
          h("option", { attrs: { value: "" }, text: ALL_LABELS[name] }),
          ...values.map((value) => h("option", { attrs: { value }, text: value })),
          ...(hasEmpty
            ? [h("option", { attrs: { value: EMPTY_VALUE }, text: "(non renseigné)" })]
            : []),
        );
      }
      select.value = matchingOption(select, filters[name]);
    }
    reset.disabled = !hasActiveFilter(filters);
  }

  return {
    element,
    updateChoices,
    setFilters(next) {
      filters = { ...next };
      search.value = filters.q;
      renderSummary();
      updateChoices(lastRecords);
    },
  };
}

/** The option whose value equals the filter, ignoring case and accents as the filter does. */
function matchingOption(select: HTMLSelectElement, wanted: string): string {
  if (!wanted) return "";
  for (const option of select.options) if (fold(option.value) === fold(wanted)) return option.value;
  return "";
}
