/** Prometheus implementation of `Metrics`, on its own registry (no global state). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { AlertMetrics } from "../alerts/metrics.ts";
import type { CloseReason, Metrics } from "./metrics.ts";

export class PrometheusMetrics implements Metrics, AlertMetrics {
  readonly registry = new Registry();
  readonly #subscribers: Gauge;
  readonly #connections: Counter;
  readonly #closed: Counter;
  readonly #refused: Counter;
  readonly #ingested: Counter;
  readonly #olderRows: Counter;
  readonly #delivered: Counter;
  readonly #bytes: Counter;
  readonly #messageBytes: Histogram;
  readonly #latency: Histogram;
  readonly #webhooks: Counter;
  readonly #webhookDuration: Histogram;
  readonly #alerts: Counter;

  constructor(options: { version: string; collectDefaults?: boolean }) {
    const registers = [this.registry];
    if (options.collectDefaults !== false) collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "relay_build_info",
      help: "Version du relais",
      labelNames: ["version"],
      registers,
    }).set({ version: options.version }, 1);
    this.#subscribers = new Gauge({
      name: "relay_sse_clients",
      help: "Flux SSE ouverts",
      registers,
    });
    this.#connections = new Counter({
      name: "relay_sse_connections_total",
      help: "Flux SSE ouverts depuis le démarrage",
      registers,
    });
    this.#closed = new Counter({
      name: "relay_sse_disconnects_total",
      help: "Flux SSE fermés, par raison (slow = abonné trop lent)",
      labelNames: ["reason"],
      registers,
    });
    this.#refused = new Counter({
      name: "relay_sse_refused_total",
      help: "Flux SSE refusés, par raison",
      labelNames: ["reason"],
      registers,
    });
    this.#ingested = new Counter({
      name: "relay_events_ingested_total",
      help: "Événements stockés, par source",
      labelNames: ["source"],
      registers,
    });
    this.#olderRows = new Counter({
      name: "relay_webhook_rows_older_total",
      help: "Lignes de webhook plus anciennes que l'état connu (Derniere_MAJ) : relues dans Grist ou appliquées",
      labelNames: ["outcome"],
      registers,
    });
    this.#delivered = new Counter({
      name: "relay_events_delivered_total",
      help: "Événements écrits vers les abonnés (un par abonné)",
      registers,
    });
    this.#bytes = new Counter({
      name: "relay_sse_bytes_total",
      help: "Octets d'événements écrits vers les abonnés",
      registers,
    });
    this.#messageBytes = new Histogram({
      name: "relay_message_bytes",
      help: "Taille d'un événement encodé",
      buckets: [256, 512, 1024, 2048, 4096, 8192, 16384, 65536],
      registers,
    });
    this.#latency = new Histogram({
      name: "relay_delivery_latency_seconds",
      help: "Réception du webhook → écriture sur toutes les sockets",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.#webhooks = new Counter({
      name: "relay_webhook_requests_total",
      help: "Webhooks reçus, par statut HTTP et code",
      labelNames: ["status", "code"],
      registers,
    });
    this.#webhookDuration = new Histogram({
      name: "relay_webhook_duration_seconds",
      help: "Durée de traitement d'un webhook jusqu'à l'acquittement",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    });
    this.#alerts = new Counter({
      name: "relay_alerts_total",
      help: "Alertes par destination et issue (sent, failed, retried, rate_limited)",
      labelNames: ["destination", "outcome"],
      registers,
    });
  }

  alertSent(destination: string): void {
    this.#alerts.inc({ destination, outcome: "sent" });
  }
  alertFailed(destination: string): void {
    this.#alerts.inc({ destination, outcome: "failed" });
  }
  alertRetried(destination: string): void {
    this.#alerts.inc({ destination, outcome: "retried" });
  }
  rateLimited(destination: string): void {
    this.#alerts.inc({ destination, outcome: "rate_limited" });
  }

  subscriberOpened(): void {
    this.#subscribers.inc();
    this.#connections.inc();
  }
  subscriberClosed(reason: CloseReason): void {
    this.#subscribers.dec();
    this.#closed.inc({ reason });
  }
  subscriberRefused(reason: string): void {
    this.#refused.inc({ reason });
  }
  eventsIngested(count: number, source: string): void {
    this.#ingested.inc({ source }, count);
  }
  olderRowReceived(outcome: "reread" | "applied"): void {
    this.#olderRows.inc({ outcome });
  }
  eventDelivered(subscribers: number, bytes: number): void {
    this.#messageBytes.observe(bytes);
    if (subscribers === 0) return;
    this.#delivered.inc(subscribers);
    this.#bytes.inc(subscribers * bytes);
  }
  deliveryLatency(seconds: number): void {
    this.#latency.observe(seconds);
  }
  webhookAnswered(statusCode: number, code: string, seconds: number): void {
    this.#webhooks.inc({ status: String(statusCode), code });
    this.#webhookDuration.observe(seconds);
  }
}
