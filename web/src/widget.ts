/**
 * Entry point of the Grist custom widget (`/widget/`). Records come from Grist (`onRecords`,
 * through the user's column mapping); the relay stream brings what Grist cannot: change events
 * for toasts, flashes and the chronology, and the hourly statistics.
 *
 * Access level: 'read table' is enough for the records. When the relay requires a token, the
 * widget asks for 'full' instead, because `grist.getAccessToken` (the proof of identity the
 * relay exchanges at /auth/grist) is only granted at full access (grist.md §4.4, §4.7). The
 * widget never writes to the document.
 */
import { appRoot, loadAppConfig, probeAuth } from "./app/bootstrap.ts";
import { createDashboard, type Dashboard } from "./app/dashboard.ts";
import { staleAfterMs } from "./core/connection-status.ts";
import type { AppConfig } from "./core/parse.ts";
import { createRelayApi, type RelayApi, type TokenSource } from "./net/relay-api.ts";
import { startRelayStream } from "./net/relay-stream.ts";
import { isTabId } from "./ui/tabs.ts";
import {
  interventionFromMappedRow,
  missingColumns,
  parseWidgetOptions,
  WIDGET_COLUMNS,
  type WidgetOptions,
} from "./widget/columns.ts";
import { pluginApiUrl } from "./widget/grist-origin.ts";
import { createGristTokenSource, TokenExchangeError } from "./widget/grist-token.ts";
import type { AccessLevel, GristWidgetApi } from "./widget/grist-types.ts";
import {
  accessNotice,
  BLOCKED_LABEL,
  createNotices,
  exchangeNotice,
  type Notices,
} from "./widget/notices.ts";
import { openOptionsEditor } from "./widget/options-editor.ts";

const MAX_RETRY_DELAY_MS = 30_000;
/** The relay's auth probe must not hold back `grist.ready` for long. */
const AUTH_PROBE_TIMEOUT_MS = 3_000;

declare global {
  interface Window {
    grist?: GristWidgetApi;
  }
}

/** For a relay older than `authRequired` in /app-config.json: one request that may answer 401. */
async function relayRequiresAuth(api: RelayApi): Promise<boolean> {
  try {
    const answer = await Promise.race([
      probeAuth(api),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), AUTH_PROBE_TIMEOUT_MS)),
    ]);
    return answer !== null;
  } catch {
    return false;
  }
}

function loadGristApi(config: AppConfig): Promise<GristWidgetApi | null> {
  // Already there: a test double, or a page that included the script itself.
  if (window.grist) return Promise.resolve(window.grist);
  const src = pluginApiUrl({
    configured: config.gristUrl,
    ancestorOrigins: [...(window.location.ancestorOrigins ?? [])],
    referrer: document.referrer,
  });
  if (!src || window.parent === window) return Promise.resolve(null);
  return new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = src;
    script.addEventListener("load", () => resolve(window.grist ?? null));
    script.addEventListener("error", () => resolve(null));
    document.head.append(script);
  });
}

function connectGrist(
  grist: GristWidgetApi,
  dashboard: Dashboard,
  config: AppConfig,
  needsToken: boolean,
  notices: Notices,
  onAccess: (level: AccessLevel | undefined) => void,
) {
  let options: WidgetOptions = { title: null, defaultTab: null };
  let tabApplied = false;
  grist.onRecords((rows, mappings) => {
    const missing = missingColumns(mappings);
    const mapped = grist.mapColumnNames(rows);
    if (mapped === null || missing.length > 0) {
      notices.set(
        "columns",
        `Veuillez associer les colonnes du widget dans le panneau de droite (« Colonnes ») : ${missing.join(", ") || "colonnes requises"}.`,
      );
      dashboard.setRecords([]);
      return;
    }
    notices.set("columns", null);
    dashboard.setRecords(mapped.map(interventionFromMappedRow).filter((r) => r !== null));
  });
  grist.onOptions((saved, interaction) => {
    options = parseWidgetOptions(saved);
    dashboard.setTitle(options.title ?? config.title);
    // Grist injects its theme as --grist-theme-* variables; the stylesheet maps ours onto them.
    document.documentElement.classList.add("in-grist");
    document.documentElement.dataset.appearance = interaction?.theme?.appearance ?? "light";
    if (
      !tabApplied &&
      isTabId(options.defaultTab) &&
      !new URLSearchParams(window.location.search).has("onglet")
    ) {
      dashboard.selectTab(options.defaultTab);
    }
    tabApplied = true;
    const level = interaction?.accessLevel;
    notices.set("access", needsToken && level !== "full" ? accessNotice(level) : null);
    onAccess(level);
  });
  grist.ready({
    requiredAccess: needsToken ? "full" : "read table",
    columns: WIDGET_COLUMNS,
    onEditOptions: () =>
      openOptionsEditor(options, (next) =>
        grist.setOptions({ title: next.title ?? "", defaultTab: next.defaultTab ?? "liste" }),
      ),
  });
}

async function main() {
  const relayBase = new URL("..", window.location.href);
  let tokenSource: TokenSource = async () => null;
  const api = createRelayApi(relayBase, () => tokenSource());
  const config = await loadAppConfig(api);
  document.title = config.title;
  // The stream starts after the dashboard exists; the retry button reaches it through this.
  let reconnect = () => {};
  const dashboard = createDashboard({
    root: appRoot(),
    mode: "widget",
    config,
    api,
    onRetryNow: () => reconnect(),
    // History and status wait until a token can be sent (or is known not to be needed).
    deferRelayCalls: true,
  });
  const notices = createNotices((message) => dashboard.setNotice(message));

  // The relay says in its config whether it needs a token; only an older relay that does not is
  // asked with a request that answers 401 when it does.
  const [needsToken, grist] = await Promise.all([
    config.authRequired ?? relayRequiresAuth(api),
    loadGristApi(config),
  ]);
  const useRelayRecords = !grist;
  let started = false;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let invalidateToken = () => {};

  function startRelay() {
    if (started) return;
    started = true;
    dashboard.setBlocked(null);
    if (needsToken && grist) {
      const gristTokens = createGristTokenSource({
        getAccessToken: () => grist.getAccessToken({ readOnly: true }),
        exchangeUrl: api.url("auth/grist"),
        onNewToken(refreshAt) {
          // Reopen the stream with a fresh token before the relay closes it at expiry.
          clearTimeout(refreshTimer);
          refreshTimer = setTimeout(
            () => stream.reconnectNow({ quiet: true }),
            Math.max(0, refreshAt - Date.now()),
          );
        },
      });
      tokenSource = () =>
        gristTokens.get().then(
          (token) => {
            notices.set("exchange", null);
            return token;
          },
          (error: unknown) => {
            notices.set(
              "exchange",
              exchangeNotice(error instanceof TokenExchangeError ? error.status : null),
            );
            throw error;
          },
        );
      invalidateToken = gristTokens.invalidate;
    }
    dashboard.startRelayCalls();
    const stream = startRelayStream({
      eventsUrl: api.url("events"),
      tokenSource: () => tokenSource(),
      baseDelayMs: config.retryMs,
      capDelayMs: MAX_RETRY_DELAY_MS,
      staleAfterMs: staleAfterMs(config.heartbeatMs),
      onSnapshot(snapshot) {
        dashboard.noteRelayFrame();
        if (useRelayRecords) dashboard.setRecords(snapshot.records);
      },
      onEvent(event) {
        dashboard.noteRelayFrame();
        dashboard.receiveEvent(event, { applyToRecords: useRelayRecords });
      },
      onReset() {
        dashboard.noteRelayFrame();
        // Records shown from Grist's own rows stay: only what came from the relay is dropped.
        dashboard.reset({ records: useRelayRecords });
      },
      onPhase(phase) {
        dashboard.setStreamPhase(phase);
      },
      probeAuth: () => probeAuth(api),
      onTokenExpired: () => invalidateToken(),
    });
    reconnect = () => stream.reconnectNow();
  }

  if (grist) {
    connectGrist(grist, dashboard, config, needsToken, notices, (level) => {
      // Without full access, getAccessToken is refused: every relay request would fail, so
      // none is sent until the user grants it (Grist then reloads the widget).
      if (!needsToken || level === "full") startRelay();
      else if (!started) dashboard.setBlocked(BLOCKED_LABEL);
    });
    if (!needsToken) startRelay();
  } else {
    dashboard.setNotice(
      "Ce widget s'affiche dans Grist. Hors de Grist, les données viennent directement du relais.",
    );
    startRelay();
  }
}

void main();
