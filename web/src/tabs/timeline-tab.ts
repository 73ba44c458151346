/**
 * Chronologie: newest first, one line per event, built once per event id and reused. Times carry
 * seconds (two changes in the same minute must be told apart) and each changed field's name is
 * highlighted so the eye finds what moved.
 */
import { formatClockSeconds, formatDateTime } from "../core/relative-time.ts";
import { type ChangePart, describeEvent } from "../core/timeline.ts";
import type { LiveEvent } from "../core/types.ts";
import { alarmRaisedBy } from "../core/vocabulary.ts";
import { type Child, h, setText } from "../ui/dom.ts";
import { ageElement } from "../ui/relative-times.ts";

/** Lines kept in the DOM; older ones stay reachable through the filters. */
const MAX_LINES = 300;

export interface TimelineState {
  loading: boolean;
  error: string | null;
  canLoadMore: boolean;
  filtered: boolean;
}

export interface TimelineTab {
  element: HTMLElement;
  /** `events` oldest first, already filtered. */
  render(events: readonly LiveEvent[], state: TimelineState): void;
}

export function createTimelineTab(onLoadMore: () => void): TimelineTab {
  const status = h("p", { class: "tl__status" });
  const list = h("ol", {
    class: "tl",
    attrs: { "aria-label": "Chronologie des changements", reversed: true },
  });
  const more = h("button", {
    class: "btn btn--ghost tl__more",
    attrs: { type: "button" },
    text: "Charger les événements plus anciens",
  });
  more.addEventListener("click", onLoadMore);
  const element = h("section", { class: "timeline" }, status, list, more);
  const lines = new Map<string, HTMLLIElement>();

  function line(event: LiveEvent): HTMLLIElement {
    const existing = lines.get(event.id);
    if (existing) return existing;
    const { actor, text, changes } = describeEvent(event);
    const ms = Date.parse(event.time);
    const alarm = alarmRaisedBy(event) !== null;
    const li = h(
      "li",
      {
        class: `tl__item tl__item--${event.type.replace("record.", "")}${alarm ? " tl__item--alarm" : ""}`,
        attrs: { "data-event-id": event.id },
      },
      h("time", {
        class: "tl__clock",
        attrs: {
          datetime: Number.isNaN(ms) ? undefined : new Date(ms).toISOString(),
          title: Number.isNaN(ms) ? undefined : formatDateTime(ms),
        },
        text: Number.isNaN(ms) ? "" : formatClockSeconds(ms),
      }),
      h("span", { class: "tl__ref", text: event.record.reference ?? "" }),
      h(
        "p",
        { class: "tl__line" },
        h("strong", { class: "tl__actor", text: actor }),
        " — ",
        h("span", { class: "tl__text" }, ...(changes?.length ? changeNodes(changes) : [text])),
        " · ",
        ageElement(event.time),
      ),
    );
    lines.set(event.id, li);
    return li;
  }

  return {
    element,
    render(events, state) {
      const shown = events.slice(-MAX_LINES).reverse();
      const keep = new Set<string>();
      let previous: Element | null = null;
      for (const event of shown) {
        const li = line(event);
        keep.add(event.id);
        const expected: Element | null = previous
          ? previous.nextElementSibling
          : list.firstElementChild;
        if (expected !== li) list.insertBefore(li, expected);
        previous = li;
      }
      for (const [id, li] of lines) {
        if (!keep.has(id)) {
          li.remove();
          lines.delete(id);
        }
      }
      const text = state.error
        ? `Historique indisponible : ${state.error}`
        : state.loading && events.length === 0
          ? "Chargement de l'historique…"
          : events.length === 0
            ? state.filtered
              ? "Aucun événement ne correspond aux filtres."
              : "Aucun événement pour l'instant."
            : `${events.length} événement${events.length > 1 ? "s" : ""}${state.filtered ? " (filtres appliqués)" : ""}`;
      setText(status, text);
      status.classList.toggle("tl__status--error", state.error !== null);
      more.hidden = !state.canLoadMore;
      more.disabled = state.loading;
    },
  };
}

/** "Statut : En cours → Bloqué ; …" with each field name marked. */
function changeNodes(changes: readonly ChangePart[]): Child[] {
  return changes.flatMap((part, index) => [
    index > 0 ? " ; " : null,
    h("mark", { class: "tl__field", text: part.label }),
    ` : ${part.from} → ${part.to}`,
  ]);
}
