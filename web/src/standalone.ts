/**
 * Entry point of the standalone page (`/`): records come from the relay's snapshot, then from
 * its live events.
 */
import { appRoot, loadAppConfig, probeAuth } from "./app/bootstrap.ts";
import { createDashboard } from "./app/dashboard.ts";
import { staleAfterMs } from "./core/connection-status.ts";
import { openCookieSession } from "./net/cookie-session.ts";
import { createRelayApi } from "./net/relay-api.ts";
import { startRelayStream } from "./net/relay-stream.ts";
import { adoptTokenFromUrl } from "./net/session-token.ts";

/** Upper bound of the reconnection backoff. */
const MAX_RETRY_DELAY_MS = 30_000;

async function main() {
  const token = adoptTokenFromUrl();
  // Relative to the page, so the relay also works behind a reverse proxy under a sub-path.
  const api = createRelayApi(new URL(".", window.location.href), async () => token);
  const config = await loadAppConfig(api);
  document.title = config.title;
  // The stream starts after the dashboard exists; the retry button reaches it through this.
  let reconnect = () => {};
  const dashboard = createDashboard({
    root: appRoot(),
    mode: "standalone",
    config,
    api,
    onRetryNow: () => reconnect(),
  });

  const stream = startRelayStream({
    eventsUrl: api.url("events"),
    // The token for the stream's URL, asked before each connection: none when the relay keeps
    // it in a cookie. The session is reopened each time, so this tab's token is the one in the
    // cookie even if another tab (another token) set it since, or it was dropped.
    async tokenSource() {
      if (!token || config.authRequired === false) return null;
      const session = await openCookieSession(api.url("auth/session"), token);
      // Refused: the token is expired or wrong, and a URL would only add it to proxy logs.
      return session === "unavailable" ? token : null;
    },
    baseDelayMs: config.retryMs,
    capDelayMs: MAX_RETRY_DELAY_MS,
    staleAfterMs: staleAfterMs(config.heartbeatMs),
    onSnapshot(snapshot) {
      dashboard.noteRelayFrame();
      dashboard.setRecords(snapshot.records);
    },
    onEvent(event) {
      dashboard.noteRelayFrame();
      dashboard.receiveEvent(event, { applyToRecords: true });
    },
    onReset() {
      // Another history: nothing the page derived from the old one is kept; the snapshot that
      // follows brings the records back.
      dashboard.noteRelayFrame();
      dashboard.reset({ records: true });
    },
    onPhase(phase) {
      dashboard.setStreamPhase(phase);
    },
    probeAuth: () => probeAuth(api),
  });
  reconnect = () => stream.reconnectNow();
}

void main();
