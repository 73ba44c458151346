/**
 * The chronology's history: the last events from `/api/events`, then older pages on demand
 * (and for the 24-hour chart), merged into the shared EventLog.
 */
import type { EventLog } from "../core/event-log.ts";
import { parseEventsPage } from "../core/parse.ts";
import type { RelayApi } from "../net/relay-api.ts";

export const HISTORY_PAGE = 200;
/** Bound on automatic paging for the 24-hour chart: at most this many pages per request. */
const MAX_AUTO_PAGES = 10;
const DAY_MS = 24 * 3_600_000;

export interface HistoryState {
  loading: boolean;
  error: string | null;
  canLoadMore: boolean;
}

export interface History {
  readonly state: HistoryState;
  /** Replaces the log's history with the latest page (start, and after `reset`). */
  reload(): Promise<void>;
  loadOlder(): Promise<void>;
  /** Pages back until the log covers the last 24 hours (or history ends). */
  coverLastDay(): Promise<void>;
}

function describeFailure(status: number): string {
  if (status === 401) return "authentification requise";
  if (status === 403) return "accès refusé";
  if (status === 410) return "historique plus ancien effacé";
  return `le relais a répondu ${status}`;
}

/** The relay's 410 for an id of another history (docs/reference/erreurs.md). */
function isForeignId(body: unknown): boolean {
  const error = (body as { error?: { code?: unknown } } | null)?.error;
  return error?.code === "RELAY_ERR_EVENT_ID_FOREIGN";
}

export function createHistory(api: RelayApi, log: EventLog, onChange: () => void): History {
  const state: HistoryState = { loading: false, error: null, canLoadMore: false };
  let generation = 0;

  async function fetchPage(query: string, mine: number): Promise<boolean> {
    state.loading = true;
    onChange();
    try {
      const answer = await api.getJson(`api/events?${query}`);
      if (mine !== generation) return false;
      const page = answer.status === 200 ? parseEventsPage(answer.body) : null;
      if (!page && isForeignId(answer.body)) {
        // The log holds events of a replaced store (its `before=` id is foreign): start over
        // from the relay's current history rather than show a dead end.
        void reload();
        return false;
      }
      if (!page) {
        state.error = answer.status === 200 ? "réponse illisible" : describeFailure(answer.status);
        state.canLoadMore = false;
        return false;
      }
      state.error = null;
      log.prepend(page.events);
      state.canLoadMore = page.events.length >= HISTORY_PAGE;
      return true;
    } catch {
      if (mine === generation) state.error = "relais injoignable";
      return false;
    } finally {
      if (mine === generation) {
        state.loading = false;
        onChange();
      }
    }
  }

  async function reload() {
    const mine = ++generation;
    log.clear();
    state.canLoadMore = false;
    await fetchPage(`limit=${HISTORY_PAGE}`, mine);
  }

  async function loadOlder() {
    const oldest = log.oldest;
    if (state.loading || !oldest) return;
    await fetchPage(`limit=${HISTORY_PAGE}&before=${encodeURIComponent(oldest.id)}`, generation);
  }

  return {
    state,
    reload,
    loadOlder,
    async coverLastDay() {
      for (let page = 0; page < MAX_AUTO_PAGES; page++) {
        const oldest = log.oldest;
        if (!oldest || !state.canLoadMore || state.loading) return;
        if (Date.parse(oldest.time) <= Date.now() - DAY_MS) return;
        const before = log.size;
        await loadOlder();
        if (log.size === before) return;
      }
    },
  };
}
