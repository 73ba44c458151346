/**
 * Notifications for a control room. Alarms (a record that became urgent or blocked) sit in an
 * assertive live region and stay until someone acknowledges them or their hold time ends;
 * ordinary changes sit in a polite region, compact, and a burst of them folds into one line.
 * The two lists are separate so an ordinary change can never push an alarm off the screen.
 * The rail is laid out beside the cards (or as a bar above them on a phone), never over them.
 */
import { formatClockSeconds } from "../core/relative-time.ts";
import { h, setText } from "./dom.ts";

/** An ordinary change leaves after this long. */
const CHANGE_MS = 8_000;
/** Past this many ordinary changes on screen, they fold into one "N changements" line. */
const GROUP_AFTER = 3;
/** Bounds memory and height if alarms pour in faster than anyone can read them. */
const MAX_ALARMS = 30;

export interface NotificationsOptions {
  /** How long an unacknowledged alarm stays, in ms; 0 keeps it until clicked. */
  alarmHoldMs: number;
  /** "voir la chronologie". */
  onShowTimeline(): void;
  /** The number of alarms waiting on screen changed (the tab title shows it). */
  onPendingAlarms(count: number): void;
}

export interface Notifications {
  element: HTMLElement;
  alarm(title: string, text: string): void;
  change(text: string): void;
}

export function createNotifications(options: NotificationsOptions): Notifications {
  const heading = h("h2", {
    class: "toasts__heading",
    attrs: { id: "notifications-titre" },
    text: "Notifications",
  });
  // On a phone only a few alarms fit in the bar: the count says how many wait below.
  const pending = h("span", { class: "toasts__pending", attrs: { hidden: true } });
  const ackAll = h("button", {
    class: "btn btn--ghost toasts__ack-all",
    attrs: { type: "button", hidden: true },
    text: "Tout marquer comme vu",
  });
  const alarms = h("div", {
    class: "toasts__region toasts__alarms",
    attrs: { role: "alert", "aria-live": "assertive" },
  });
  const changes = h("div", {
    class: "toasts__region toasts__changes",
    attrs: { role: "status", "aria-live": "polite" },
  });
  const empty = h("p", { class: "toasts__empty", text: "Aucune notification récente." });
  const element = h(
    "aside",
    { class: "toasts", attrs: { "aria-labelledby": "notifications-titre" } },
    h("div", { class: "toasts__head" }, heading, pending, ackAll),
    alarms,
    changes,
    empty,
  );

  let group: { element: HTMLElement; label: HTMLElement; count: number } | null = null;
  let groupTimer: ReturnType<typeof setTimeout> | undefined;

  const acknowledgers = new WeakMap<Element, () => void>();
  ackAll.addEventListener("click", () => {
    for (const toast of [...alarms.children]) acknowledgers.get(toast)?.();
  });

  function refresh() {
    const count = alarms.childElementCount;
    empty.hidden = count + changes.childElementCount > 0;
    element.classList.toggle("toasts--alarm", count > 0);
    pending.hidden = count === 0;
    setText(pending, `${count} alerte${count > 1 ? "s" : ""} à voir`);
    ackAll.hidden = count < 2;
    options.onPendingAlarms(count);
  }

  function stamp(): HTMLElement {
    const now = Date.now();
    return h("time", {
      class: "toast__time",
      attrs: { datetime: new Date(now).toISOString() },
      text: formatClockSeconds(now),
    });
  }

  function alarm(title: string, text: string) {
    const close = h("button", {
      class: "btn toast__ack",
      // The name starts with the visible word, as voice control users say what they see.
      attrs: { type: "button", "aria-label": `Vu — ${text}` },
      text: "Vu",
    });
    const toast = h(
      "div",
      { class: "toast toast--alarm" },
      h("strong", { class: "toast__title", text: title }),
      stamp(),
      h("span", { class: "toast__text", text }),
      close,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const dismiss = () => {
      clearTimeout(timer);
      toast.remove();
      refresh();
    };
    close.addEventListener("click", dismiss);
    acknowledgers.set(toast, dismiss);
    if (options.alarmHoldMs > 0) timer = setTimeout(dismiss, options.alarmHoldMs);
    // Newest first: the alarm that just rang is the one read first.
    alarms.prepend(toast);
    // Only alarms can evict alarms, and only past a number no screen could show anyway.
    while (alarms.childElementCount > MAX_ALARMS) alarms.lastElementChild?.remove();
    refresh();
  }

  function change(text: string) {
    if (group) {
      group.count += 1;
      setText(group.label, `${group.count} changements`);
      clearTimeout(groupTimer);
      groupTimer = setTimeout(endGroup, CHANGE_MS);
      return;
    }
    if (changes.childElementCount >= GROUP_AFTER) {
      startGroup(changes.childElementCount + 1);
      return;
    }
    const toast = h(
      "div",
      { class: "toast toast--change" },
      stamp(),
      h("span", { class: "toast__text", text }),
    );
    changes.prepend(toast);
    setTimeout(() => {
      toast.remove();
      refresh();
    }, CHANGE_MS);
    refresh();
  }

  /** A burst: the single lines give way to one count and a way to the full chronology. */
  function startGroup(count: number) {
    const label = h("span", { class: "toast__text", text: `${count} changements` });
    const link = h("button", {
      class: "btn btn--ghost toast__link",
      attrs: { type: "button" },
      text: "voir la chronologie",
    });
    link.addEventListener("click", () => options.onShowTimeline());
    const element = h("div", { class: "toast toast--group" }, label, " — ", link);
    changes.replaceChildren(element);
    group = { element, label, count };
    groupTimer = setTimeout(endGroup, CHANGE_MS);
    refresh();
  }

  function endGroup() {
    group?.element.remove();
    group = null;
    refresh();
  }

  refresh();
  return { element, alarm, change };
}
