/**
 * The dashboard shared by the standalone page and the Grist widget: layout, state, rendering.
 * Where records come from (relay snapshot or Grist) is decided by the entry point.
 */
import { alarmHoldMs } from "../core/alarm-hold.ts";
import { closedToday } from "../core/closed.ts";
import { type StreamPhase, staleAfterMs } from "../core/connection-status.ts";
import { computeCounters } from "../core/counters.ts";
import { EventLog } from "../core/event-log.ts";
import {
  type Filters,
  filtersFromSearch,
  filtersToSearch,
  hasActiveFilter,
  matchesFilters,
} from "../core/filters.ts";
import type { AppConfig } from "../core/parse.ts";
import { RecordStore, recordKey } from "../core/record-store.ts";
import { formatClock } from "../core/relative-time.ts";
import { activeSorted } from "../core/sorting.ts";
import { toastText } from "../core/timeline.ts";
import { tokenRole } from "../core/token.ts";
import type { Intervention, LiveEvent } from "../core/types.ts";
import { alarmRaisedBy, isClosed } from "../core/vocabulary.ts";
import type { RelayApi } from "../net/relay-api.ts";
import type { MapView } from "../tabs/map-tab.ts";
import type { StatsView } from "../tabs/stats-tab.ts";
import { createTimelineTab } from "../tabs/timeline-tab.ts";
import { createClosedList } from "../ui/closed-list.ts";
import { createConnectionIndicator } from "../ui/connection-indicator.ts";
import { createCountersBar } from "../ui/counters-bar.ts";
import { h, setText } from "../ui/dom.ts";
import { createFiltersBar } from "../ui/filters-bar.ts";
import { createHelpPanel } from "../ui/help-panel.ts";
import { createInterventionList } from "../ui/intervention-list.ts";
import { createNotifications } from "../ui/notifications.ts";
import { createOfflineBanner } from "../ui/offline-banner.ts";
import { keepAgesFresh } from "../ui/relative-times.ts";
import { createRelayStatusPanel } from "../ui/relay-status.ts";
import { createSound } from "../ui/sound.ts";
import { createTabs, isTabId, type TabId } from "../ui/tabs.ts";
import { trackConnection } from "./connection-state.ts";
import { createHistory } from "./history.ts";
import { LiveIds } from "./live-ids.ts";
import { type StatusPolling, startStatusPolling } from "./status-poller.ts";

export interface DashboardOptions {
  root: HTMLElement;
  mode: "standalone" | "widget";
  config: AppConfig;
  api: RelayApi;
  /** "Réessayer maintenant", the browser back online or the tab shown again: reconnect now. */
  onRetryNow?: () => void;
  /**
   * Wait for `startRelayCalls()` before asking the relay for history and status: the widget
   * first needs its token, and a request sent without it is known to fail.
   */
  deferRelayCalls?: boolean;
}

export interface Dashboard {
  /** Every record at once: a relay snapshot, or Grist's rows in widget mode. */
  setRecords(records: readonly Intervention[]): void;
  /** A live relay event; ignored when its id was already seen (replay after reconnection). */
  receiveEvent(event: LiveEvent, options: { applyToRecords: boolean }): void;
  /**
   * After an `event: reset`: forgets everything derived from the old history (ids seen live,
   * chronology, pending highlights and, with `records`, the records and so the counters);
   * the snapshot that follows and the relay's history fill them again.
   */
  reset(options: { records: boolean }): void;
  /** Reloads the chronology from the relay's history (e.g. once a token allows it). */
  reloadHistory(): void;
  /** With `deferRelayCalls`: the token is there, load the history and the relay status. */
  startRelayCalls(): void;
  /**
   * The stream cannot start until the user changes something (the widget's access level):
   * the indicator says so instead of "Connexion…". null lifts it.
   */
  setBlocked(label: string | null): void;
  setStreamPhase(phase: StreamPhase): void;
  /** Any frame from the relay (snapshot, reset, event): "dernier événement à …". */
  noteRelayFrame(): void;
  /** A persistent message above the content (null hides it). */
  setNotice(message: string | null): void;
  setTitle(title: string): void;
  selectTab(tab: TabId): void;
  refreshStatus(): void;
}

/** Coalesces a burst of events into one render. */
const RENDER_DELAY_MS = 40;
export function createDashboard(options: DashboardOptions): Dashboard {
  const { root, mode, config, api } = options;
  let baseTitle = config.title;
  let pendingAlarms = 0;
  let status: StatusPolling | null = null;
  const store = new RecordStore();
  const log = new EventLog();
  const search = new URLSearchParams(window.location.search);
  let filters: Filters = filtersFromSearch(search);
  const pendingFlashes = new Map<string, boolean>();
  const liveIds = new LiveIds();

  // --- layout -------------------------------------------------------------------------------
  const title = h("h1", { class: "topbar__title", text: config.title });
  const clock = h("span", { class: "topbar__clock", attrs: { "aria-hidden": "true" } });
  const connection = createConnectionIndicator();
  const sound = createSound();
  const help = createHelpPanel({ alarmHoldMs: alarmHoldMs(search) });
  const counters = createCountersBar();
  const offline = createOfflineBanner(() => retryNow());
  const notice = h("p", { class: "notice", attrs: { role: "status", hidden: true } });
  const relayPanel = createRelayStatusPanel(() => status?.refresh());
  const link = trackConnection({
    root,
    indicator: connection,
    banner: offline,
    relayPanel,
    staleAfterMs: staleAfterMs(config.heartbeatMs),
    onRetryNow: () => options.onRetryNow?.(),
  });
  const filtersBar = createFiltersBar(filters, (next) => {
    filters = next;
    writeUrl();
    renderNow();
  });
  const list = createInterventionList();
  const closedList = createClosedList();
  const history = createHistory(api, log, () => scheduleRender());
  const timeline = createTimelineTab(() => void history.loadOlder());
  const listPanel = h("div", {}, list.element, closedList.element);
  const mapPanel = h(
    "div",
    {},
    h("p", { class: "panel__loading", text: "Chargement de la carte…" }),
  );
  const timelinePanel = h("div", {}, timeline.element);
  const statsPanel = h(
    "div",
    {},
    h("p", { class: "panel__loading", text: "Chargement des graphiques…" }),
  );
  const notifications = createNotifications({
    alarmHoldMs: alarmHoldMs(search),
    onShowTimeline: () => tabs.select("chronologie", { focus: true }),
    onPendingAlarms(count) {
      pendingAlarms = count;
      renderTitle();
    },
  });

  let mapView: MapView | null = null;
  let mapLoading = false;
  let statsView: StatsView | null = null;
  let statsLoading = false;

  const initialTab = search.get("onglet");
  const tabs = createTabs(
    [
      { id: "liste", label: "Liste", panel: listPanel },
      { id: "carte", label: "Carte", panel: mapPanel },
      { id: "chronologie", label: "Chronologie", panel: timelinePanel },
      { id: "statistiques", label: "Statistiques", panel: statsPanel },
    ],
    isTabId(initialTab) ? initialTab : "liste",
    (tab) => onTab(tab),
  );

  root.replaceChildren(
    h(
      "header",
      { class: "topbar" },
      h("div", { class: "topbar__brand" }, title, clock),
      h("div", { class: "topbar__tools" }, connection.element, sound.button, help.button),
    ),
    h(
      "div",
      { class: "layout" },
      h(
        "main",
        { class: "content", attrs: { id: "contenu" } },
        notice,
        offline.element,
        counters.element,
        relayPanel.element,
        filtersBar.element,
        tabs.bar,
        tabs.panels,
      ),
      // Beside the content (a rail, or a bar above it on a phone), never over the cards.
      notifications.element,
    ),
    help.dialog,
  );
  root.classList.add(`app--${mode}`);
  root.setAttribute("aria-busy", "false");

  // --- rendering ----------------------------------------------------------------------------
  let renderTimer: ReturnType<typeof setTimeout> | undefined;
  function scheduleRender() {
    if (renderTimer === undefined) renderTimer = setTimeout(renderNow, RENDER_DELAY_MS);
  }

  function filteredEvents(): LiveEvent[] {
    if (!hasActiveFilter(filters)) return [...log.list()];
    return log.list().filter((event) => matchesFilters(event.record, filters));
  }

  function renderNow() {
    clearTimeout(renderTimer);
    renderTimer = undefined;
    const all = [...store.values()];
    filtersBar.updateChoices(all);
    const filtered = all.filter((record) => matchesFilters(record, filters));
    const isFiltered = hasActiveFilter(filters);
    // What the page says follows what it shows: the counters are over the filtered records.
    counters.render(computeCounters(filtered), isFiltered ? all.length : null);
    const active = activeSorted(filtered);
    const totalActive = all.filter((record) => !isClosed(record.statut)).length;
    // "Terminé" or "Annulé" chosen in the Statut filter: what it selects is in the closed view.
    const closedWanted = isClosed(filters.statut);
    list.render(active, { totalActive, filtered: isFiltered, closedWanted });
    const closed = closedToday(filtered, Date.now());
    closedList.render(closed.today, { older: closed.older, open: closedWanted });
    for (const [key, alarm] of pendingFlashes) list.flash(key, alarm);
    pendingFlashes.clear();
    const tab = tabs.current;
    if (tab === "carte") mapView?.update(active);
    if (tab === "chronologie") {
      timeline.render(filteredEvents(), { ...history.state, filtered: hasActiveFilter(filters) });
    }
    if (tab === "statistiques") statsView?.update(filtered, filteredEvents());
  }

  function tick() {
    link.render();
    setText(clock, formatClock(Date.now()));
  }

  function retryNow() {
    options.onRetryNow?.();
    status?.refresh();
  }

  /** Only an admin token (or no token: a loopback relay's local operator) may read the status. */
  async function mayReadStatus(): Promise<boolean> {
    const token = await api.tokenSource().catch(() => null);
    return token === null || tokenRole(token) === "admin";
  }

  function startRelayCalls() {
    if (status) return;
    status = startStatusPolling(api, relayPanel, mayReadStatus);
    void history.reload();
  }

  function renderTitle() {
    // The tab title carries the alarms waiting, so a supervisor on another tab sees them.
    document.title = pendingAlarms > 0 ? `(${pendingAlarms}) ${baseTitle}` : baseTitle;
  }

  function onTab(tab: TabId) {
    writeUrl();
    if (tab === "carte") void openMap();
    if (tab === "statistiques") void openStats();
    scheduleRender();
  }

  async function openMap() {
    if (mapView) {
      mapView.refresh();
      return;
    }
    if (mapLoading) return;
    mapLoading = true;
    try {
      const { createMapView } = await import("../tabs/map-tab.ts");
      mapView = await createMapView(mapPanel, config);
      scheduleRender();
    } catch {
      mapPanel.replaceChildren(
        h("p", { class: "panel__error", text: "La carte n'a pas pu être chargée." }),
      );
    } finally {
      mapLoading = false;
    }
  }

  async function openStats() {
    void history.coverLastDay();
    if (statsView || statsLoading) return;
    statsLoading = true;
    try {
      const { createStatsView } = await import("../tabs/stats-tab.ts");
      statsView = createStatsView(statsPanel);
      scheduleRender();
    } catch {
      statsPanel.replaceChildren(
        h("p", { class: "panel__error", text: "Les graphiques n'ont pas pu être chargés." }),
      );
    } finally {
      statsLoading = false;
    }
  }

  function writeUrl() {
    const next = filtersToSearch(filters, new URLSearchParams(window.location.search));
    if (tabs.current !== "liste") next.set("onglet", tabs.current);
    else next.delete("onglet");
    const query = next.toString();
    const url = `${window.location.pathname}${query ? `?${query}` : ""}${window.location.hash}`;
    // replaceState: a filter change is not a navigation the Back button should replay.
    if (url !== `${window.location.pathname}${window.location.search}${window.location.hash}`) {
      window.history.replaceState(window.history.state, "", url);
    }
  }

  function notify(event: LiveEvent) {
    // The relay's start-up sync is a load, not a change someone made; a position found by
    // the relay's geocoder is not either (the marker moves, nobody is called).
    if (event.source === "sync" || event.source === "geocoding") return;
    // Notifications and sound follow the page's filters like everything else on it.
    if (!matchesFilters(event.record, filters)) return;
    // An alarm is an edge (became urgent or blocked), not every update of an urgent record.
    const alarm = alarmRaisedBy(event);
    if (alarm) {
      notifications.alarm(
        alarm === "bloque" ? "Intervention bloquée" : "Intervention urgente",
        toastText(event),
      );
      sound.alarm();
    } else {
      notifications.change(toastText(event));
    }
    pendingFlashes.set(recordKey(event.record.id), alarm !== null);
  }

  // --- timers -------------------------------------------------------------------------------
  keepAgesFresh(root);
  setInterval(tick, 1_000);
  tick();
  if (!options.deferRelayCalls) startRelayCalls();
  onTab(tabs.current);
  renderNow();

  return {
    setRecords(records) {
      store.replaceAll(records);
      scheduleRender();
    },
    receiveEvent(event, { applyToRecords }) {
      link.noteFrame();
      if (!liveIds.add(event.id)) return;
      // The history page may already hold it (fetched while the stream caught up): the log
      // ignores the copy, but the record must still be updated.
      log.append(event);
      if (applyToRecords) store.apply(event);
      notify(event);
      scheduleRender();
    },
    reloadHistory() {
      void history.reload();
    },
    startRelayCalls,
    setBlocked(label) {
      link.setBlocked(label);
    },
    reset({ records }) {
      liveIds.clear();
      pendingFlashes.clear();
      if (records) store.replaceAll([]);
      void history.reload();
      scheduleRender();
    },
    noteRelayFrame() {
      link.noteFrame();
    },
    setStreamPhase(next) {
      // Newly connected: the subscriber count in "État du relais" now includes this page.
      if (next.phase === "open" && link.phase.phase !== "open") status?.refresh();
      link.setPhase(next);
    },
    setNotice(message) {
      notice.hidden = message === null;
      setText(notice, message ?? "");
    },
    setTitle(text) {
      setText(title, text);
      baseTitle = text;
      renderTitle();
    },
    selectTab(tab) {
      tabs.select(tab);
    },
    refreshStatus() {
      status?.refresh();
    },
  };
}
