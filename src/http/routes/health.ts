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
import type { StoreHealth } from "../store-health.ts";

export interface HealthRoutesOptions {
  store: EventStore;
  state: RelayState;
  prometheus: PrometheusMetrics | null;
  authorize: Authorize;
  /** Failed writes seen by the routes (disk full…): not ready while they last. */
  storeHealth: StoreHealth;
  /** The `/metrics` text when it is not this registry's alone (WORKERS > 1: every worker). */
  metricsText?: () => Promise<string>;
}

export function registerHealthRoutes(app: FastifyInstance, options: HealthRoutesOptions): void {
  const live = async () => ({ status: "ok" });
  app.get("/livez", live);
  app.get("/healthz", live);

  app.get("/readyz", async (_request, reply) => {
    // The store's own view (connected, answering in time) and the writes that failed.
    const problem = options.store.isReady() ? options.storeHealth.problem : "unavailable";
    const ready = problem === null && !options.state.shuttingDown;
    reply.code(ready ? 200 : 503);
    if (!ready) reply.header("Retry-After", "5");
    return {
      status: ready ? "ready" : "not-ready",
      store: problem === null ? "ok" : "unavailable",
      ...(problem !== null ? { storeProblem: problem } : {}),
      shuttingDown: options.state.shuttingDown,
    };
  });

  app.get("/metrics", async (request, reply) => {
    await options.authorize(request, "admin");
    if (!options.prometheus) return reply.code(404).send();
    reply.header("Content-Type", options.prometheus.registry.contentType);
    return (options.metricsText ?? (() => options.prometheus?.registry.metrics()))();
  });
}
