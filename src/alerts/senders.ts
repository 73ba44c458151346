/** One sender per configured destination: turns a stored alert into a Matrix or HTTP call. */
import type { DeliveryOutcome } from "./delivery.ts";
import { createMatrixSender, type MatrixCryptoSettings } from "./matrix-sender.ts";
import { sendOutgoingWebhook } from "./outgoing-webhook.ts";
import type { AlertPayload } from "./payload.ts";
import type { AlertDestination, AlertsConfig } from "./rules.ts";

export interface AlertSender {
  /** Pacing between two messages to this destination. */
  readonly minIntervalMs: number;
  send(key: string, payload: AlertPayload): Promise<DeliveryOutcome>;
  /** Releases what the sender holds between sends (the Matrix encrypting session). */
  close?(): Promise<void>;
}

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
    return createMatrixSender(destination, {
      ...http,
      ...(matrixCrypto ? { crypto: matrixCrypto } : {}),
    }) satisfies AlertSender;
  }
  return {
    minIntervalMs: destination.minIntervalMs,
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
