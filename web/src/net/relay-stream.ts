/**
 * The dashboard's own SSE client over `EventSource`. The browser's built-in reconnection is
 * replaced (each error closes the source) so that we control the backoff, resume with
 * `?lastEventId=` and can tell the user when the next attempt happens. The stream is asked for
 * heartbeat events (`?heartbeat=event`), so silence longer than two heartbeats means a dead
 * connection, which is then reopened.
 */
import { backoffDelayMs } from "../core/backoff.ts";
import type { StreamPhase } from "../core/connection-status.ts";
import { parseRelayEvent, parseResetReason, parseSnapshot, type Snapshot } from "../core/parse.ts";
import type { LiveEvent } from "../core/types.ts";
import type { TokenSource } from "./relay-api.ts";

export interface RelayStreamOptions {
  /** The relay's `/events` URL, without query. */
  eventsUrl: URL;
  tokenSource: TokenSource;
  /** First backoff ceiling: the relay's `retry:` hint (EventSource hides the field itself). */
  baseDelayMs: number;
  capDelayMs: number;
  /** Silence after which the open stream is presumed dead and reopened. */
  staleAfterMs: number;
  onSnapshot(snapshot: Snapshot): void;
  onEvent(event: LiveEvent): void;
  onReset(reason: string): void;
  onPhase(phase: StreamPhase): void;
  /** A frame that failed the checks in parse.ts. */
  onMalformed?(eventName: string): void;
  /** Asked after a connection failed before opening: was it the token? */
  probeAuth?(): Promise<"unauthorized" | "forbidden" | null>;
  /** The relay announced the token expired (it closes the stream next): drop cached tokens. */
  onTokenExpired?(): void;
}

export interface RelayStream {
  /** Close and reopen now, resuming after the last event. `quiet` keeps "En direct" meanwhile. */
  reconnectNow(options?: { quiet?: boolean }): void;
  stop(): void;
  readonly lastEventId: string | null;
}

const EVENT_NAMES = ["record.added", "record.updated", "record.removed"] as const;

/** An attempt that neither opens nor fails (a black-holed TCP connection) is abandoned. */
const CONNECT_TIMEOUT_MS = 15_000;

export function startRelayStream(options: RelayStreamOptions): RelayStream {
  let source: EventSource | null = null;
  let lastEventId: string | null = null;
  let failures = 0;
  let failingSince = 0;
  let everOpened = false;
  // Why the last attempt failed, when it was the token: shown until a connection opens.
  let authProblem: "unauthorized" | "forbidden" | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let staleTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  // Each connection gets a number so callbacks of a replaced EventSource are ignored.
  let generation = 0;

  function setPhase(phase: StreamPhase) {
    if (!stopped) options.onPhase(phase);
  }

  function signal() {
    clearTimeout(staleTimer);
    staleTimer = setTimeout(() => reconnect(false), options.staleAfterMs);
    setPhase({ phase: "open", lastSignalAt: Date.now() });
  }

  function closeSource() {
    clearTimeout(staleTimer);
    if (source) {
      source.close();
      source = null;
    }
  }

  async function connect(quiet: boolean) {
    clearTimeout(retryTimer);
    closeSource();
    const mine = ++generation;
    setPhase({ phase: "connecting", quiet, everOpened, authProblem });
    const token = await options.tokenSource().catch(() => null);
    if (stopped || mine !== generation) return;
    const url = new URL(options.eventsUrl);
    if (lastEventId !== null) url.searchParams.set("lastEventId", lastEventId);
    // EventSource hides `:` comments; a named heartbeat event proves the stream is alive.
    url.searchParams.set("heartbeat", "event");
    // EventSource cannot send headers: without a cookie session (the widget, an older relay),
    // the relay accepts the JWT as a query parameter.
    if (token) url.searchParams.set("token", token);
    const es = new EventSource(url);
    source = es;
    let opened = false;
    const current = () => !stopped && mine === generation;
    // Cleared by the first signal() once the stream opens.
    staleTimer = setTimeout(() => {
      if (!current()) return;
      closeSource();
      void scheduleRetry(false);
    }, CONNECT_TIMEOUT_MS);

    es.addEventListener("open", () => {
      if (!current()) return;
      opened = true;
      everOpened = true;
      failures = 0;
      authProblem = null;
      signal();
    });
    es.addEventListener("error", () => {
      if (!current()) return;
      // Closing stops EventSource's own reconnection: ours resumes with lastEventId.
      closeSource();
      void scheduleRetry(opened);
    });
    es.addEventListener("snapshot", (message) => {
      if (!current()) return;
      signal();
      const snapshot = parseSnapshot(safeJson(message.data));
      if (!snapshot) return options.onMalformed?.("snapshot");
      lastEventId = snapshot.lastEventId ?? (message.lastEventId || lastEventId);
      options.onSnapshot(snapshot);
    });
    es.addEventListener("heartbeat", () => {
      if (current()) signal();
    });
    es.addEventListener("token-expired", () => {
      if (current()) options.onTokenExpired?.();
    });
    es.addEventListener("reset", (message) => {
      if (!current()) return;
      signal();
      options.onReset(parseResetReason(safeJson(message.data)));
    });
    for (const name of EVENT_NAMES) {
      es.addEventListener(name, (message) => {
        if (!current()) return;
        signal();
        const event = parseRelayEvent(safeJson(message.data));
        if (!event) return options.onMalformed?.(name);
        lastEventId = event.id;
        options.onEvent(event);
      });
    }
  }

  async function scheduleRetry(hadOpened: boolean) {
    if (stopped) return;
    const mine = generation;
    if (failures === 0) failingSince = Date.now();
    const delay = backoffDelayMs(failures, {
      baseMs: options.baseDelayMs,
      capMs: options.capDelayMs,
    });
    failures += 1;
    const nextAttemptAt = Date.now() + delay;
    retryTimer = setTimeout(() => void connect(false), delay);
    const waiting = { phase: "waiting", nextAttemptAt, failures, since: failingSince } as const;
    setPhase({ ...waiting, authProblem });
    // A connection refused before opening may be an expired or missing token: EventSource
    // hides the HTTP status, so ask a JSON endpoint that answers 401/403 the same way.
    if (!hadOpened && options.probeAuth) {
      const problem = await options.probeAuth().catch(() => null);
      if (stopped) return;
      // The answer may come after the next attempt started: it still describes the token.
      authProblem = problem;
      if (mine === generation) setPhase({ ...waiting, authProblem });
      else if (source?.readyState !== EventSource.OPEN) {
        setPhase({ phase: "connecting", quiet: false, everOpened, authProblem });
      }
    }
  }

  function reconnect(quiet: boolean) {
    if (stopped) return;
    void connect(quiet);
  }

  void connect(false);

  return {
    reconnectNow: (opts = {}) => reconnect(opts.quiet ?? false),
    stop() {
      stopped = true;
      generation += 1;
      clearTimeout(retryTimer);
      closeSource();
    },
    get lastEventId() {
      return lastEventId;
    },
  };
}

function safeJson(text: unknown): unknown {
  if (typeof text !== "string") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
