/**
 * WAI-ARIA tabs: arrow keys move between tabs, Home/End jump, Tab goes into the panel. Panels
 * are told when they are shown, so map and chart code loads only on first display.
 */
import { h } from "./dom.ts";

export const TAB_IDS = ["liste", "carte", "chronologie", "statistiques"] as const;
export type TabId = (typeof TAB_IDS)[number];

export function isTabId(value: string | null): value is TabId {
  return value !== null && (TAB_IDS as readonly string[]).includes(value);
}

export interface TabSpec {
  id: TabId;
  label: string;
  panel: HTMLElement;
}

export interface Tabs {
  bar: HTMLElement;
  panels: HTMLElement;
  select(id: TabId, options?: { focus?: boolean }): void;
  readonly current: TabId;
}

export function createTabs(
  specs: readonly TabSpec[],
  initial: TabId,
  onSelect: (id: TabId) => void,
): Tabs {
  const buttons = new Map<TabId, HTMLButtonElement>();
  const panelById = new Map<TabId, HTMLElement>();
  let current = initial;

  for (const spec of specs) {
    const button = h("button", {
      class: "tab",
      attrs: {
        type: "button",
        role: "tab",
        id: `onglet-${spec.id}`,
        "aria-controls": `panneau-${spec.id}`,
      },
      text: spec.label,
    });
    button.addEventListener("click", () => select(spec.id, { focus: false }));
    buttons.set(spec.id, button);
    spec.panel.id = `panneau-${spec.id}`;
    spec.panel.setAttribute("role", "tabpanel");
    spec.panel.setAttribute("aria-labelledby", `onglet-${spec.id}`);
    spec.panel.classList.add("panel");
    // Panels without focusable content must still be reachable (ARIA tabs pattern).
    spec.panel.tabIndex = 0;
    panelById.set(spec.id, spec.panel);
  }

  const bar = h(
    "div",
    { class: "tabs", attrs: { role: "tablist", "aria-label": "Vues" } },
    ...buttons.values(),
  );
  bar.addEventListener("keydown", (event) => {
    const ids = specs.map((spec) => spec.id);
    const index = ids.indexOf(current);
    const moves: Record<string, number> = {
      ArrowRight: index + 1,
      ArrowLeft: index - 1,
      Home: 0,
      End: ids.length - 1,
    };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = ids[(target + ids.length) % ids.length];
    if (next) select(next, { focus: true });
  });
  const panels = h("div", { class: "panels" }, ...panelById.values());

  function select(id: TabId, options: { focus?: boolean } = {}) {
    show(id);
    if (options.focus) buttons.get(id)?.focus();
    onSelect(id);
  }

  function show(id: TabId) {
    current = id;
    for (const [tabId, button] of buttons) {
      const selected = tabId === id;
      button.setAttribute("aria-selected", String(selected));
      // Roving tabindex: only the selected tab is in the Tab order.
      button.tabIndex = selected ? 0 : -1;
      const panel = panelById.get(tabId);
      if (panel) panel.hidden = !selected;
    }
  }

  // The initial tab is shown without calling onSelect: the caller is not set up yet.
  show(initial);
  return {
    bar,
    panels,
    select,
    get current() {
      return current;
    },
  };
}
