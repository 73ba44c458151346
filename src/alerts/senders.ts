/** One sender per configured destination: turns a stored alert into a Matrix or HTTP call. */
import type { DeliveryOutcome } from "./delivery.ts";
import { createMatrixSender, type MatrixCryptoSettings } from "./matrix-sender.ts";
import { sendOutgoingWebhook } from "./outgoing-webhook.ts";
import type { AlertPayload } from "./payload.ts";
import type { AlertDestination, AlertsConfig } from "./rules.ts";

export interface AlertSender {
  /** Pacing between two messages to this destination. */
  readonly minIntervalMs: number;
  /** How long after its creation a failing alert is still retried. */
  readonly retryWindowMs: number;
  send(key: string, payload: AlertPayload): Promise<DeliveryOutcome>;
  /** Releases what the sender holds between sends (the Matrix encrypting session). */
  close?(): Promise<void>;
}

/** Alerts outlive a receiver's night-long outage: retried for a day unless configured. */
export const DEFAULT_RETRY_WINDOW_MS = 24 * 3600 * 1000;

export interface SenderOptions {
  fetch?: typeof fetch;
  /** Per request; defaults to 10 000 ms. */
  timeoutMs?: number;
  now?: () => number;
  /** For Matrix destinations in encrypted rooms. */
  matrixCrypto?: MatrixCryptoSettings;
}

/** The JSON an outgoing webhook receives (documented in docs/alertes.md). */
export function webhookBody(key: string, payload: AlertPayload): string {
  return JSON.stringify({
    type: "grist-realtime.alert",
    id: key,
    rule: payload.rule,
    eventId: payload.eventId,
    reference: payload.reference,
    title: payload.message.title,
    text: payload.message.text,
    html: payload.message.html,
    link: payload.message.link,
    event: payload.event ?? null,
  });
}

export function createSender(destination: AlertDestination, options: SenderOptions = {}) {
  if (destination.kind === "matrix") {
    const { matrixCrypto, ...http } = options;
    const matrix = createMatrixSender(destination, {
      ...http,
      ...(matrixCrypto ? { crypto: matrixCrypto } : {}),
    });
    // The Matrix sender keeps its own methods (close); only the retry window is added here.
    return Object.assign(matrix, {
      retryWindowMs: destination.retryWindowMs ?? DEFAULT_RETRY_WINDOW_MS,
    }) satisfies AlertSender;
  }
  return {
    minIntervalMs: destination.minIntervalMs,
    retryWindowMs: destination.retryWindowMs ?? DEFAULT_RETRY_WINDOW_MS,
    send: (key: string, payload: AlertPayload) =>
      sendOutgoingWebhook(
        {
          url: destination.url,
          secret: destination.secret,
          deliveryKey: key,
          body: webhookBody(key, payload),
        },
        options,
      ),
  } satisfies AlertSender;
}

export function createSenders(
  config: AlertsConfig,
  options: SenderOptions = {},
): Map<string, AlertSender> {
  return new Map(config.destinations.map((d) => [d.name, createSender(d, options)]));
}
