/**
 * What the page says about its link to the relay: the header indicator, and while the stream
 * is down the dimmed data, the dated "Relais injoignable" banner with "Réessayer maintenant",
 * and the relay panel marked unreachable. The browser coming back online or the tab shown
 * again reconnects at once instead of waiting for the backoff.
 */
import {
  type ConnectionView,
  connectionView,
  type StreamPhase,
} from "../core/connection-status.ts";
import { formatClockSeconds } from "../core/relative-time.ts";
import type { ConnectionIndicator } from "../ui/connection-indicator.ts";
import type { OfflineBanner } from "../ui/offline-banner.ts";
import type { RelayStatusPanel } from "../ui/relay-status.ts";

export interface ConnectionStateOptions {
  root: HTMLElement;
  indicator: ConnectionIndicator;
  banner: OfflineBanner;
  relayPanel: RelayStatusPanel;
  staleAfterMs: number;
  /** Reconnect now (browser online again, tab visible again). */
  onRetryNow(): void;
}

export interface ConnectionState {
  readonly phase: StreamPhase;
  setPhase(phase: StreamPhase): void;
  /** Any frame from the relay: the data on screen is current as of now. */
  noteFrame(): void;
  /** The stream waits for the user (widget access level): say so, and do not call it down. */
  setBlocked(label: string | null): void;
  render(): void;
}

export function trackConnection(options: ConnectionStateOptions): ConnectionState {
  const { root, indicator, banner, relayPanel } = options;
  let phase: StreamPhase = { phase: "connecting", quiet: false, everOpened: false };
  let lastFrameAt: number | null = null;
  let blocked: string | null = null;
  let view: ConnectionView = { kind: "connecting", label: "Connexion…" };

  /** The stream should be up and is not. */
  function isDown(): boolean {
    return blocked === null && (view.kind === "offline" || view.kind === "reconnecting");
  }

  function render() {
    view = blocked
      ? { kind: "offline", label: blocked }
      : connectionView({
          state: phase,
          nowMs: Date.now(),
          lastEventAt: lastFrameAt,
          staleAfterMs: options.staleAfterMs,
          online: navigator.onLine,
        });
    indicator.render(view);
    // Data shown while the stream is down is a past state: dim it and say from when.
    const down = isDown();
    root.classList.toggle("app--stale", down);
    relayPanel.setReachable(!down);
    banner.render(
      down
        ? {
            dataAt: lastFrameAt === null ? null : formatClockSeconds(lastFrameAt),
            reason: view.label,
          }
        : null,
    );
  }

  window.addEventListener("online", () => {
    render();
    if (isDown()) options.onRetryNow();
  });
  window.addEventListener("offline", render);
  document.addEventListener("visibilitychange", () => {
    // A screen woken up reconnects at once rather than at the next backoff attempt.
    if (document.visibilityState === "visible" && isDown()) options.onRetryNow();
  });

  return {
    get phase() {
      return phase;
    },
    setPhase(next) {
      phase = next;
      render();
    },
    noteFrame() {
      lastFrameAt = Date.now();
    },
    setBlocked(label) {
      blocked = label;
      render();
    },
    render,
  };
}
