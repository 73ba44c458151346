/**
 * Alerts assembled for the relay: the planner to hand to the ingestor (`outbox` commit hook),
 * the dispatcher to start and stop, and the listener that wakes it when a commit planned an
 * alert, so an urgent intervention does not wait for the next poll.
 */
import type { RelayEvent } from "../domain/events.ts";
import type { BackoffOptions } from "../retry/backoff.ts";
import type { OutboxEntry } from "../store/event-store.ts";
import type { Outbox } from "../store/outbox.ts";
import { AlertDispatcher, type AlertLease, type AlertLogger } from "./dispatcher.ts";
import type { MatrixCryptoSettings } from "./matrix-sender.ts";
import type { AlertMetrics } from "./metrics.ts";
import { createAlertPlanner } from "./planner.ts";
import type { AlertsConfig } from "./rules.ts";
import { createSenders } from "./senders.ts";

export interface AlertServiceOptions {
  config: AlertsConfig;
  outbox: Outbox;
  /** Base URL of the dashboard, for the link in each alert. */
  dashboardUrl?: string;
  metrics?: AlertMetrics;
  logger?: AlertLogger;
  lease?: AlertLease;
  /** Defaults to 1 000 ms. */
  pollIntervalMs?: number;
  /** Overrides `delivery.maxAttempts` of the configuration file (default 8). */
  maxAttempts?: number;
  /** Overrides `delivery.backoffBaseMs` / `backoffMaxMs` of the configuration file. */
  backoff?: BackoffOptions;
  /** Store directory and secret for Matrix rooms that are end-to-end encrypted. */
  matrixCrypto?: MatrixCryptoSettings;
}

export interface AlertService {
  /** `CommitOptions.outbox`: give it to the ingestor. */
  planner: (events: readonly RelayEvent[]) => OutboxEntry[];
  /** Register with `store.onAppended`. */
  onCommitted: () => void;
  start(): void;
  /** Looks at the outbox now (after an admin retry). */
  wake(): void;
  /** Stops sending; what is left stays in the outbox for the next start. */
  stop(): Promise<void>;
}

export function createAlertService(options: AlertServiceOptions): AlertService {
  const logger = options.logger;
  const delivery = options.config.delivery;
  const plan = createAlertPlanner(options.config, {
    ...(options.dashboardUrl !== undefined ? { dashboardUrl: options.dashboardUrl } : {}),
    onError: (error, event) =>
      logger?.error({ err: error, eventId: event.id }, "alerte non planifiée pour cet événement"),
  });
  const senders = createSenders(
    options.config,
    options.matrixCrypto ? { matrixCrypto: options.matrixCrypto } : {},
  );
  const closeSenders = () =>
    Promise.all([...senders.values()].map((sender) => sender.close?.())).then(() => undefined);
  const lease = options.lease;
  const dispatcher = new AlertDispatcher({
    outbox: options.outbox,
    senders,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(logger ? { logger } : {}),
    ...(lease
      ? {
          lease: {
            // An instance that does not hold the lease runs no Matrix session: another does.
            async runExclusive<T>(fn: (signal: AbortSignal) => Promise<T>) {
              let held = false;
              const result = await lease.runExclusive((signal) => {
                held = true;
                return fn(signal);
              });
              if (!held) await closeSenders();
              return result;
            },
          },
        }
      : {}),
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
    maxAttempts: options.maxAttempts ?? delivery?.maxAttempts,
    backoff: options.backoff ?? {
      ...(delivery?.backoffBaseMs !== undefined ? { baseMs: delivery.backoffBaseMs } : {}),
      ...(delivery?.backoffMaxMs !== undefined ? { maxMs: delivery.backoffMaxMs } : {}),
    },
  });
  let planned = false;
  return {
    planner(events) {
      const entries = plan(events);
      if (entries.length > 0) planned = true;
      return entries;
    },
    // Woken after the commit, not from inside it: the alerts must be visible before a look.
    onCommitted() {
      if (!planned) return;
      planned = false;
      dispatcher.wake();
    },
    start: () => dispatcher.start(),
    wake: () => dispatcher.wake(),
    stop: () => dispatcher.stop().then(closeSenders),
  };
}
