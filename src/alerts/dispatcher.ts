/**
 * Sends what the outbox holds. Every `pollIntervalMs` it takes the due alerts, oldest first,
 * sends them destination by destination (paced, in parallel across destinations) and records
 * the outcome: sent, rescheduled (announced delay, else backoff), or failed for good.
 *
 * Nothing is sent twice: an alert stays pending until the store says it was sent, and a retry
 * after a crash reuses the Matrix txnId (the homeserver drops the duplicate) or the webhook
 * delivery key (the receiver can).
 */

import { type Log, silentLog } from "../log/log.ts";
import { type BackoffOptions, backoffDelayMs } from "../retry/backoff.ts";
import type { Lease } from "../store/lease.ts";
import type { Outbox, OutboxItem } from "../store/outbox.ts";
import { type DeliveryOutcome, failure } from "./delivery.ts";
import { type AlertMetrics, noopAlertMetrics } from "./metrics.ts";
import { DestinationPacer } from "./pacer.ts";
import { AlertPayloadSchema } from "./payload.ts";
import type { AlertSender } from "./senders.ts";

/** Several relays share one Redis outbox (issue 4/6): only the lease holder sends. */
/** The relay's one lease interface: no new alert is started once `signal` aborts. */
export type AlertLease = Lease;

export type AlertLogger = Log;

export interface AlertDispatcherOptions {
  outbox: Outbox;
  senders: ReadonlyMap<string, AlertSender>;
  /** Pause between two looks at the outbox. Defaults to 1 000 ms. */
  pollIntervalMs?: number;
  /** Alerts taken per look. Defaults to 100. */
  batchSize?: number;
  /**
   * Hard cap on attempts, whatever the window. Defaults to none: each destination's
   * `retryWindowMs` (24 h) bounds the retries.
   */
  maxAttempts?: number;
  /**
   * Attempts an alert always gets, even past its window: an alert an admin retried (its
   * attempts start again from 0) is not dropped after a single failure. Defaults to 5.
   */
  minAttempts?: number;
  backoff?: BackoffOptions;
  /** Ceiling on a delay announced by a receiver (Retry-After). Defaults to 3 600 000 ms. */
  maxRetryAfterMs?: number;
  metrics?: AlertMetrics;
  lease?: AlertLease;
  logger?: AlertLogger;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

const silentLogger: AlertLogger = silentLog;

/** Resolves after `ms`, or as soon as `signal` aborts. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

export class AlertDispatcher {
  readonly #outbox: Outbox;
  readonly #senders: ReadonlyMap<string, AlertSender>;
  readonly #pollIntervalMs: number;
  readonly #batchSize: number;
  readonly #maxAttempts: number;
  readonly #minAttempts: number;
  readonly #backoff: BackoffOptions;
  readonly #maxRetryAfterMs: number;
  readonly #metrics: AlertMetrics;
  readonly #lease: AlertLease | undefined;
  readonly #logger: AlertLogger;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  readonly #pacer: DestinationPacer;
  readonly #stopping = new AbortController();
  #idle: AbortController | null = null;
  #wakeRequested = false;
  #loop: Promise<void> | null = null;

  constructor(options: AlertDispatcherOptions) {
    this.#outbox = options.outbox;
    this.#senders = options.senders;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#batchSize = options.batchSize ?? 100;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? Number.POSITIVE_INFINITY);
    this.#minAttempts = Math.max(1, options.minAttempts ?? 5);
    this.#backoff = options.backoff ?? {};
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 3_600_000;
    this.#metrics = options.metrics ?? noopAlertMetrics;
    this.#lease = options.lease;
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#random = options.random ?? Math.random;
    this.#pacer = new DestinationPacer(this.#now);
  }

  start(): void {
    if (this.#loop || this.#stopping.signal.aborted) return;
    this.#loop = this.#run();
  }

  /** Looks at the outbox now rather than at the next poll (call it after a commit). */
  wake(): void {
    this.#wakeRequested = true;
    this.#idle?.abort();
  }

  /** Stops polling; an HTTP call under way finishes (bounded by its timeout). */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#idle?.abort();
    await this.#loop;
  }

  /** One look at the outbox, under the lease when there is one. */
  async runOnce(): Promise<void> {
    if (this.#lease) await this.#lease.runExclusive((signal) => this.#tick(signal));
    else await this.#tick(this.#stopping.signal);
  }

  async #run(): Promise<void> {
    const stop = this.#stopping.signal;
    while (!stop.aborted) {
      this.#wakeRequested = false;
      try {
        await this.runOnce();
      } catch (error) {
        this.#logger.error({ err: error }, "alert outbox unreachable");
      }
      if (stop.aborted || this.#wakeRequested) continue;
      this.#idle = new AbortController();
      await this.#sleep(this.#pollIntervalMs, AbortSignal.any([stop, this.#idle.signal]));
      this.#idle = null;
    }
  }

  async #tick(leaseSignal: AbortSignal): Promise<void> {
    const stop = AbortSignal.any([this.#stopping.signal, leaseSignal]);
    const due = await this.#outbox.due(this.#now(), this.#batchSize);
    const byDestination = new Map<string, OutboxItem[]>();
    for (const item of due) {
      const list = byDestination.get(item.destination) ?? [];
      list.push(item);
      byDestination.set(item.destination, list);
    }
    await Promise.all(
      [...byDestination].map(([destination, items]) => this.#drain(destination, items, stop)),
    );
  }

  /** Sends one destination's due alerts in order, until one must wait. */
  async #drain(destination: string, items: OutboxItem[], stop: AbortSignal): Promise<void> {
    const sender = this.#senders.get(destination);
    for (const item of items) {
      if (stop.aborted) return;
      if (!sender) {
        await this.#giveUp(item, `destination « ${destination} » absente de la configuration`);
        continue;
      }
      const payload = AlertPayloadSchema.safeParse(item.payload);
      if (!payload.success) {
        await this.#giveUp(item, "contenu de l'alerte illisible");
        continue;
      }
      const wait = this.#pacer.waitMs(destination, sender.minIntervalMs);
      if (wait > this.#pollIntervalMs) return;
      if (wait > 0) await this.#sleep(wait, stop);
      if (stop.aborted) return;
      this.#pacer.recordAttempt(destination);
      let outcome: DeliveryOutcome;
      try {
        outcome = await sender.send(item.key, payload.data);
      } catch (error) {
        this.#logger.error({ err: error, destination, key: item.key }, "alert sender threw");
        outcome = failure("network", "erreur inattendue pendant l'envoi", { retryable: true });
      }
      if (!(await this.#settle(item, outcome, sender))) return;
    }
  }

  /** Records the outcome; false when the destination must pause before its next alert. */
  async #settle(item: OutboxItem, outcome: DeliveryOutcome, sender: AlertSender): Promise<boolean> {
    const { key, destination } = item;
    const now = this.#now();
    if (outcome.ok) {
      await this.#outbox.markSent(key, now);
      this.#metrics.alertSent(destination);
      return true;
    }
    const attempts = item.attempts + 1;
    if (outcome.kind === "rate-limited") this.#metrics.rateLimited(destination);
    if (!outcome.retryable) {
      await this.#giveUp(item, outcome.message);
      return true;
    }
    const delay =
      outcome.retryAfterMs !== null
        ? Math.min(outcome.retryAfterMs, this.#maxRetryAfterMs)
        : backoffDelayMs(attempts, this.#backoff, this.#random);
    const pastWindow = now + delay > item.createdAt + sender.retryWindowMs;
    if (attempts >= this.#maxAttempts || (pastWindow && attempts >= this.#minAttempts)) {
      const span = Math.round((now - item.createdAt) / 60_000);
      await this.#giveUp(
        item,
        `${outcome.message} ; abandon après ${attempts} tentative(s) en ${span} min`,
      );
      return true;
    }
    await this.#outbox.reschedule(key, now + delay, outcome.message, now);
    this.#metrics.alertRetried(destination);
    // The next alerts for this destination would meet the same limit or outage: they wait
    // behind this one instead of each spending an attempt.
    this.#pacer.blockUntil(destination, now + delay);
    this.#logger.info(
      { destination, key, attempts, delayMs: delay, reason: outcome.message },
      "alert delivery failed, retry scheduled",
    );
    return false;
  }

  async #giveUp(item: OutboxItem, reason: string): Promise<void> {
    await this.#outbox.markFailed(item.key, reason, this.#now());
    this.#metrics.alertFailed(item.destination);
    this.#logger.warn({ destination: item.destination, key: item.key, reason }, "alert given up");
  }
}
