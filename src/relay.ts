/**
 * The composition root: builds the store, hub, ingest service and HTTP routes from a validated
 * config, and knows the order in which to start and stop them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import { createTokenVerifier } from "./auth/jwt.ts";
import { type Config, ConfigError } from "./config/config.ts";
import {
  buildColumnMapping,
  type ColumnMapping,
  ColumnMappingFileSchema,
} from "./domain/column-mapping.ts";
import { IngestClock, Ingestor } from "./grist/ingest.ts";
import { createAuthorize } from "./http/authorize.ts";
import { createCorsPolicy, installCors } from "./http/cors.ts";
import { installErrorHandling } from "./http/error-handler.ts";
import { RelayState } from "./http/relay-state.ts";
import { registerApiRoutes } from "./http/routes/api.ts";
import { registerHealthRoutes } from "./http/routes/health.ts";
import { registerStreamRoutes } from "./http/routes/streams.ts";
import { registerWebApp } from "./http/routes/web-app.ts";
import { registerWebhookRoutes } from "./http/routes/webhooks.ts";
import { StreamLimits } from "./http/stream-limits.ts";
import { Hub } from "./hub/hub.ts";
import type { Logger } from "./log/logger.ts";
import { PrometheusMetrics } from "./metrics/prometheus-metrics.ts";
import type { EventStore } from "./store/event-store.ts";
import { MemoryStore } from "./store/memory-store.ts";
import type { Outbox } from "./store/outbox.ts";
import { SqliteStore } from "./store/sqlite-store.ts";
import { VERSION } from "./version.ts";

/** The dashboard built by `npm run build:web`. */
const WEB_DIST = fileURLToPath(new URL("../web/dist", import.meta.url));

export interface Relay {
  readonly app: FastifyInstance;
  readonly config: Config;
  readonly store: EventStore;
  readonly hub: Hub;
  readonly ingestor: Ingestor;
  readonly state: RelayState;
  /** Listens on HOST:PORT; returns the base URL. */
  listen(): Promise<string>;
  /** Graceful shutdown, in the order documented in docs/exploitation.md. */
  stop(): Promise<void>;
}

export function loadColumnMapping(file: string | null): ColumnMapping {
  if (!file) return buildColumnMapping();
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError([
      `COLUMN_MAPPING_FILE : lecture de ${file} impossible (${(error as Error).message})`,
    ]);
  }
  const parsed = ColumnMappingFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `COLUMN_MAPPING_FILE ${i.path.join(".")} : ${i.message}`),
    );
  }
  return buildColumnMapping(parsed.data);
}

function openStore(config: Config): EventStore & Outbox {
  switch (config.STORE) {
    case "memory":
      return new MemoryStore();
    case "sqlite":
      return new SqliteStore({
        file: join(config.DATA_DIR, "grist-realtime.db"),
        synchronous: config.SQLITE_SYNCHRONOUS,
      });
    case "redis":
      throw new ConfigError(["STORE=redis : pas encore disponible dans cette version"]);
  }
}

export async function createRelay(config: Config, logger: Logger): Promise<Relay> {
  const mapping = loadColumnMapping(config.columnMappingFile);
  const store = openStore(config);
  const prometheus = new PrometheusMetrics({ version: VERSION });
  const metrics = prometheus;
  const state = new RelayState();
  const clock = new IngestClock();
  store.onAppended((events) => {
    state.lastEventId = events.at(-1)?.id ?? state.lastEventId;
    state.countEvents(events.length);
  });
  const hub = new Hub({
    store,
    metrics,
    heartbeatMs: config.HEARTBEAT_MS,
    retryMs: config.RETRY_MS,
    maxQueuedBytes: config.SUBSCRIBER_QUEUE_BYTES,
    maxPendingEvents: 10_000,
    takeIngestStart: (id) => clock.take(id),
    onClose: (subscriber, reason) => {
      if (reason === "slow")
        logger.warn({ client: subscriber.clientAddress }, "slow subscriber disconnected");
    },
  });
  const ingestor = new Ingestor({ store, mapping, metrics, clock });
  state.lastEventId = (await store.snapshot()).lastEventId;

  // Typed as the default instance: the routes take FastifyInstance, not the pino-typed variant.
  const app: FastifyInstance = Fastify({
    loggerInstance: logger,
    // Request lines would log every SSE connection and webhook; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.TRUST_PROXY,
    bodyLimit: config.WEBHOOK_BODY_LIMIT_BYTES,
    return503OnClosing: true,
    // Idle keep-alive sockets close at once; streams are ended by the hub, not cut mid-frame.
    forceCloseConnections: "idle",
  }) as unknown as FastifyInstance;
  installErrorHandling(app);
  const cors = createCorsPolicy(config.CORS_ORIGINS);
  installCors(app, cors);
  const verifier = config.authEnabled
    ? createTokenVerifier({
        secret: config.AUTH_JWT_SECRET,
        jwksUrl: config.AUTH_JWKS_URL,
        issuer: config.AUTH_JWT_ISSUER,
        audience: config.AUTH_JWT_AUDIENCE,
      })
    : null;
  const authorize = createAuthorize(verifier);
  const limits = new StreamLimits(config.MAX_STREAMS, config.MAX_STREAMS_PER_IP);

  registerWebhookRoutes(app, {
    ingestor,
    store,
    state,
    metrics,
    secret: config.WEBHOOK_SECRET,
    bodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES,
  });
  registerStreamRoutes(app, { hub, authorize, limits, state, metrics, cors });
  registerApiRoutes(app, { store, outbox: store, hub, authorize, state, version: VERSION });
  registerHealthRoutes(app, { store, state, prometheus, authorize });
  registerWebApp(app, {
    distDir: WEB_DIST,
    tileUrl: config.MAP_TILE_URL,
    tileAttribution: config.MAP_TILE_ATTRIBUTION,
    heartbeatMs: config.HEARTBEAT_MS,
    retryMs: config.RETRY_MS,
    title: config.DASHBOARD_TITLE,
    gristUrl: config.GRIST_URL ?? null,
  });

  const retention = {
    maxEvents: config.RETENTION_MAX_EVENTS,
    maxAgeMs: config.RETENTION_MAX_AGE_HOURS * 3_600_000,
  };
  const prune = async () => {
    try {
      const dropped = await store.prune(retention, Date.now());
      if (dropped > 0) logger.info({ dropped }, "event history pruned");
    } catch (error) {
      logger.error({ err: error }, "pruning failed");
    }
  };
  const pruneTimer = setInterval(prune, 10 * 60_000);
  pruneTimer.unref();
  await prune();

  let stopping: Promise<void> | null = null;
  return {
    app,
    config,
    store,
    hub,
    ingestor,
    state,
    async listen() {
      const url = await app.listen({ host: config.HOST, port: config.PORT });
      logger.info({ url, store: store.kind, auth: config.authEnabled }, "relay listening");
      return url;
    },
    stop() {
      stopping ??= (async () => {
        // 1. Readiness goes 503, new streams and webhooks are refused (Grist will retry).
        state.shuttingDown = true;
        clearInterval(pruneTimer);
        // 2. Streams end with a spread-out retry hint, so clients reconnect elsewhere.
        hub.closeAll("shutdown");
        // 3. In-flight webhooks finish (their events are already stored or refused).
        const deadline = setTimeout(
          () => app.server.closeAllConnections(),
          config.SHUTDOWN_TIMEOUT_MS,
        );
        deadline.unref();
        await app.close();
        clearTimeout(deadline);
        // 4. Then the store.
        hub.stop();
        await store.close();
        logger.info("relay stopped");
      })();
      return stopping;
    },
  };
}
