/**
 * What the header says about the stream. It must tell the truth on a wall screen: "En direct"
 * only while the stream is open AND something arrived recently, since a silently dead TCP
 * connection looks "open" to EventSource for minutes.
 */
import { formatClock, formatClockSeconds } from "./relative-time.ts";

export type StreamPhase =
  /**
   * A connection attempt is under way. `quiet`: a planned reconnect (token refresh) while live.
   * `authProblem`: the previous attempt was refused for the token, so this one likely will be.
   */
  | { phase: "connecting"; quiet: boolean; everOpened: boolean; authProblem?: AuthProblem | null }
  | { phase: "open"; lastSignalAt: number }
  /** Waiting for the next attempt after `failures` failed ones, the first at `since`. */
  | {
      phase: "waiting";
      nextAttemptAt: number;
      failures: number;
      since: number;
      authProblem: AuthProblem | null;
    };

export type AuthProblem = "unauthorized" | "forbidden";

/** Every state the header's indicator can show, in the order the help panel explains them. */
export const CONNECTION_KINDS = ["live", "connecting", "reconnecting", "offline"] as const;
export type ConnectionKind = (typeof CONNECTION_KINDS)[number];

export interface ConnectionView {
  kind: ConnectionKind;
  label: string;
}

export interface ConnectionViewInput {
  state: StreamPhase;
  nowMs: number;
  /** When the last SSE event (of any kind) was received, if ever. */
  lastEventAt: number | null;
  /** Silence after which an open stream is no longer trusted. */
  staleAfterMs: number;
  /** `navigator.onLine`. */
  online: boolean;
}

/** After this long without a stream, "Reconnexion…" becomes "Hors ligne". */
export const OFFLINE_AFTER_MS = 30_000;
const OFFLINE_AFTER_FAILURES = 3;

function authText(problem: AuthProblem): string {
  return problem === "forbidden" ? "accès refusé" : "jeton manquant ou expiré";
}

function lastEventText(lastEventAt: number | null): string {
  return lastEventAt === null
    ? "aucun événement reçu"
    : `dernier événement à ${formatClock(lastEventAt)}`;
}

export function connectionView(input: ConnectionViewInput): ConnectionView {
  const { state, nowMs, lastEventAt } = input;
  switch (state.phase) {
    case "open":
      if (nowMs - state.lastSignalAt <= input.staleAfterMs)
        return { kind: "live", label: "En direct" };
      return { kind: "reconnecting", label: "Reconnexion… (flux silencieux)" };
    case "connecting":
      if (state.quiet) return { kind: "live", label: "En direct" };
      // Keep saying why it failed rather than flickering to "Connexion…" at every retry.
      if (state.authProblem) {
        return {
          kind: "offline",
          label: `Hors ligne — ${authText(state.authProblem)} · ${lastEventText(lastEventAt)} · nouvelle tentative en cours`,
        };
      }
      return state.everOpened
        ? { kind: "reconnecting", label: "Reconnexion…" }
        : { kind: "connecting", label: "Connexion…" };
    case "waiting": {
      const next = `${formatClockSeconds(state.nextAttemptAt)}`;
      if (state.authProblem) {
        return {
          kind: "offline",
          label: `Hors ligne — ${authText(state.authProblem)} · ${lastEventText(lastEventAt)} · nouvelle tentative à ${next}`,
        };
      }
      const offline =
        !input.online ||
        state.failures >= OFFLINE_AFTER_FAILURES ||
        nowMs - state.since >= OFFLINE_AFTER_MS;
      if (offline) {
        return {
          kind: "offline",
          label: `Hors ligne — ${lastEventText(lastEventAt)} · nouvelle tentative à ${next}`,
        };
      }
      return { kind: "reconnecting", label: `Reconnexion… (prochaine tentative à ${next})` };
    }
  }
}

/** 2 heartbeats plus a margin for a slow proxy, per the relay's `HEARTBEAT_MS`. */
export function staleAfterMs(heartbeatMs: number): number {
  return 2 * heartbeatMs + 5_000;
}
