/**
 * `/livez` (the process answers: restart me if not), `/readyz` (send me traffic: store reachable
 * and not shutting down) and `/metrics`. Liveness never checks Redis: a Redis blip must not
 * make an orchestrator restart every relay at once.
 */
import type { FastifyInstance } from "fastify";
import type { PrometheusMetrics } from "../../metrics/prometheus-metrics.ts";
import type { EventStore } from "../../store/event-store.ts";
import type { Authorize } from "../authorize.ts";
import type { RelayState } from "../relay-state.ts";

export interface HealthRoutesOptions {
  store: EventStore;
  state: RelayState;
  prometheus: PrometheusMetrics | null;
  authorize: Authorize;
}

export function registerHealthRoutes(app: FastifyInstance, options: HealthRoutesOptions): void {
  const live = async () => ({ status: "ok" });
  app.get("/livez", live);
  app.get("/healthz", live);

  app.get("/readyz", async (_request, reply) => {
    const storeReady = options.store.isReady();
    const ready = storeReady && !options.state.shuttingDown;
    reply.code(ready ? 200 : 503);
    return {
      status: ready ? "ready" : "not-ready",
      store: storeReady ? "ok" : "unavailable",
      shuttingDown: options.state.shuttingDown,
    };
  });

  app.get("/metrics", async (request, reply) => {
    await options.authorize(request, "admin");
    if (!options.prometheus) return reply.code(404).send();
    reply.header("Content-Type", options.prometheus.registry.contentType);
    return options.prometheus.registry.metrics();
  });
}
