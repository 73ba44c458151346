/**
 * The composition root: builds the store, hub, ingest service and HTTP routes from a validated
 * config, and knows the order in which to start and stop them.
 */
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import { createAlertService } from "./alerts/alert-service.ts";
import { crossSigningLogLine } from "./alerts/matrix/cross-signing.ts";
import { type AlertsConfig, AlertsConfigError, alertsConfigFromSettings } from "./alerts/rules.ts";
import { createTokenVerifier, mintToken } from "./auth/jwt.ts";
import { clusterMetricsText } from "./cluster/cluster-metrics.ts";
import { type Config, ConfigError } from "./config/config.ts";
import {
  buildColumnMapping,
  type ColumnMapping,
  ColumnMappingFileSchema,
} from "./domain/column-mapping.ts";
import type { GeocodeCache } from "./geocode/geocode-cache.ts";
import type { Geocoder } from "./geocode/geocoder.ts";
import { GeocodingService } from "./geocode/geocoding-service.ts";
import { GeoplateformeGeocoder } from "./geocode/geoplateforme.ts";
import { GristPositionWriter } from "./geocode/grist-write-back.ts";
import { IngestClock, Ingestor } from "./grist/ingest.ts";
import { flattenRecord, Reconciler } from "./grist/reconciler.ts";
import { GristClient } from "./grist/rest-client.ts";
import { createAuthorize } from "./http/authorize.ts";
import { createCorsPolicy, installCors } from "./http/cors.ts";
import { clientErrorHandler, installErrorHandling } from "./http/error-handler.ts";
import { RedisStreamSlots } from "./http/redis-stream-slots.ts";
import { RelayState } from "./http/relay-state.ts";
import { registerAlertRoutes } from "./http/routes/alerts.ts";
import { registerApiRoutes } from "./http/routes/api.ts";
import { gristAuthRoutes } from "./http/routes/grist-auth.ts";
import { registerHealthRoutes } from "./http/routes/health.ts";
import { registerSessionRoutes } from "./http/routes/session.ts";
import { registerStreamRoutes } from "./http/routes/streams.ts";
import { registerWebApp } from "./http/routes/web-app.ts";
import { registerWebhookRoutes } from "./http/routes/webhooks.ts";
import { StoreHealth } from "./http/store-health.ts";
import { StreamLimits } from "./http/stream-limits.ts";
import { Hub } from "./hub/hub.ts";
import type { Logger } from "./log/logger.ts";
import { PrometheusMetrics } from "./metrics/prometheus-metrics.ts";
import type { EventStore } from "./store/event-store.ts";
import { MemoryStore } from "./store/memory-store.ts";
import type { Outbox } from "./store/outbox.ts";
import { RedisLease } from "./store/redis-lease.ts";
import { RedisStore } from "./store/redis-store.ts";
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
  /** Null when GEOCODER=off. */
  readonly geocoding: GeocodingService | null;
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

type RelayStore = EventStore & Outbox & { readonly geocodeCache: GeocodeCache };

async function openStore(config: Config, logger: Logger): Promise<RelayStore> {
  switch (config.STORE) {
    case "memory":
      return new MemoryStore();
    case "sqlite":
      return new SqliteStore({
        file: join(config.DATA_DIR, "grist-realtime.db"),
        synchronous: config.SQLITE_SYNCHRONOUS,
      });
    case "redis":
      return RedisStore.open({
        url: config.REDIS_URL,
        keyPrefix: config.REDIS_KEY_PREFIX,
        commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
        logger: logger.child({ module: "redis-store" }),
      });
  }
}

/**
 * Work done once per deployment (reconciliation, alert sending): with several instances on
 * Redis, one lease per job; a single SQLite or memory relay needs none.
 */
function leaseFor(config: Config, name: string, logger: Logger): RedisLease | null {
  if (config.STORE !== "redis") return null;
  return new RedisLease({
    url: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    name,
    ttlMs: config.LEASE_TTL_MS,
    logger: logger.child({ module: `lease-${name}` }),
  });
}

function loadAlerts(config: Config): AlertsConfig | null {
  try {
    return alertsConfigFromSettings(config);
  } catch (error) {
    if (error instanceof AlertsConfigError) {
      throw new ConfigError(
        error.issues.map((issue) => `alertes ${issue.path} : ${issue.message}`),
      );
    }
    throw error;
  }
}

export interface RelayOverrides {
  /** Replaces the Géoplateforme client (the demo's simulated geocoder). */
  geocoder?: Geocoder;
}

function createGeocoding(
  config: Config,
  store: RelayStore,
  mapping: ColumnMapping,
  grist: GristClient | null,
  logger: Logger,
  overrides: RelayOverrides,
): GeocodingService | null {
  if (config.GEOCODER === "off") return null;
  const log = logger.child({ module: "geocoding" });
  return new GeocodingService({
    geocoder:
      overrides.geocoder ??
      new GeoplateformeGeocoder({
        url: config.GEOCODER_URL,
        timeoutMs: config.GEOCODER_TIMEOUT_MS,
      }),
    cache: store.geocodeCache,
    store,
    mapping,
    minScore: config.GEOCODER_MIN_SCORE,
    ratePerSecond: config.GEOCODER_RATE_PER_SECOND,
    logger: log,
    writeBack:
      config.GEOCODE_WRITE_BACK && grist
        ? new GristPositionWriter({
            client: grist,
            table: config.GRIST_TABLE,
            mapping,
            logger: log,
          })
        : null,
  });
}

export async function createRelay(
  config: Config,
  logger: Logger,
  overrides: RelayOverrides = {},
): Promise<Relay> {
  const mapping = loadColumnMapping(config.columnMappingFile);
  const alertsConfig = loadAlerts(config);
  const store = await openStore(config, logger);
  const prometheus = new PrometheusMetrics({ version: VERSION });
  const metrics = prometheus;
  const state = new RelayState();
  const clock = new IngestClock();
  store.onAppended((events) => {
    state.lastEventId = events.at(-1)?.id ?? state.lastEventId;
  });
  const hub = new Hub({
    store,
    metrics,
    heartbeatMs: config.HEARTBEAT_MS,
    retryMs: config.RETRY_MS,
    maxQueuedBytes: config.SUBSCRIBER_QUEUE_BYTES,
    stallMs: config.SUBSCRIBER_STALL_MS,
    maxPendingEvents: 10_000,
    takeIngestStart: (id) => clock.take(id),
    onClose: (subscriber, reason) => {
      if (reason === "slow" || reason === "stalled")
        logger.warn({ client: subscriber.clientAddress, reason }, "slow subscriber disconnected");
    },
  });
  const alertLease = alertsConfig ? leaseFor(config, "alerts", logger) : null;
  const alerts = alertsConfig
    ? createAlertService({
        config: alertsConfig,
        outbox: store,
        ...(config.RELAY_PUBLIC_URL ? { dashboardUrl: config.RELAY_PUBLIC_URL } : {}),
        metrics: prometheus,
        logger: logger.child({ module: "alerts" }),
        ...(alertLease ? { lease: alertLease } : {}),
        ...(config.TCHAP_STORE_KEY
          ? {
              matrixCrypto: {
                storeDir: join(config.DATA_DIR, "tchap"),
                storeSecret: config.TCHAP_STORE_KEY,
                crossSigning: {
                  ...(config.TCHAP_PASSWORD ? { password: config.TCHAP_PASSWORD } : {}),
                  ...(config.TCHAP_RECOVERY_KEY ? { recoveryKey: config.TCHAP_RECOVERY_KEY } : {}),
                },
                onCrossSigning: (outcome) => {
                  const line = crossSigningLogLine(outcome);
                  logger.child({ module: "alerts" })[line.level](line.fields, line.message);
                },
              },
            }
          : {}),
      })
    : null;
  if (alerts) store.onAppended(alerts.onCommitted);
  const grist =
    config.GRIST_URL && config.GRIST_DOC_ID && config.GRIST_API_KEY
      ? {
          url: config.GRIST_URL,
          docId: config.GRIST_DOC_ID,
          auth: { kind: "apiKey", apiKey: config.GRIST_API_KEY } as const,
        }
      : null;
  // Re-reading a row runs while Grist waits for the webhook's answer: a short, bounded try.
  const rereadClient = grist
    ? new GristClient({ ...grist, maxAttempts: 2, timeoutMs: 5_000 })
    : null;
  // Reconciliation and geocoding write-back: the REST client's default limits and retries.
  const gristClient = grist ? new GristClient(grist) : null;
  const geocoding = createGeocoding(config, store, mapping, gristClient, logger, overrides);
  const ingestor = new Ingestor({
    store,
    mapping,
    metrics,
    clock,
    logger: logger.child({ module: "ingest" }),
    ...(alerts ? { outbox: alerts.planner } : {}),
    ...(rereadClient
      ? {
          reread: async (ids) =>
            (await rereadClient.fetchRecords(config.GRIST_TABLE, { filter: { id: [...ids] } })).map(
              flattenRecord,
            ),
        }
      : {}),
    ...(geocoding ? { afterCommit: (events) => geocoding.request(events) } : {}),
  });
  const reconcileLease = config.GRIST_URL ? leaseFor(config, "reconciliation", logger) : null;
  const reconciler = gristClient
    ? new Reconciler({
        client: gristClient,
        table: config.GRIST_TABLE,
        mapping,
        sink: ingestor,
        intervalMs: config.RECONCILE_INTERVAL_MS,
        logger: logger.child({ module: "reconciler" }),
        onResult: (result) => {
          state.lastReconciliation = result;
        },
        ...(reconcileLease ? { lease: reconcileLease } : {}),
      })
    : null;
  state.lastEventId = (await store.snapshot()).lastEventId;

  // Typed as the default instance: the routes take FastifyInstance, not the pino-typed variant.
  const app: FastifyInstance = Fastify({
    loggerInstance: logger,
    // Request lines would log every SSE connection and webhook; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.TRUST_PROXY,
    bodyLimit: config.WEBHOOK_BODY_LIMIT_BYTES,
    return503OnClosing: true,
    // Headers and body must arrive whole in this time, or 408 and the connection closes: a
    // trickled body cannot hold a socket (streams are past this once their GET is read).
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    http: {
      headersTimeout: Math.min(60_000, config.REQUEST_TIMEOUT_MS),
      // Node checks those deadlines on this period (30 s by default, longer than the timeout).
      connectionsCheckingInterval: Math.min(1000, config.REQUEST_TIMEOUT_MS),
    },
    clientErrorHandler,
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
  // With several relays on Redis, MAX_STREAMS_PER_IP holds for the deployment, not per relay.
  const streamSlots =
    config.STORE === "redis"
      ? new RedisStreamSlots({
          url: config.REDIS_URL,
          keyPrefix: config.REDIS_KEY_PREFIX,
          maxPerAddress: config.MAX_STREAMS_PER_IP,
          logger: logger.child({ module: "stream-slots" }),
        })
      : null;
  await streamSlots?.start();
  const limits = new StreamLimits(
    config.MAX_STREAMS,
    config.MAX_STREAMS_PER_IP,
    streamSlots && {
      slots: streamSlots,
      onError: (error) =>
        logger.warn({ err: (error as Error).message }, "shared stream limit unavailable"),
    },
  );
  const storeHealth = new StoreHealth({ logger: logger.child({ module: "store-health" }) });

  registerWebhookRoutes(app, {
    ingestor,
    store,
    state,
    metrics,
    secret: config.WEBHOOK_SECRET,
    bodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES,
    storeHealth,
  });
  registerStreamRoutes(app, { hub, store, authorize, limits, state, metrics, cors });
  registerApiRoutes(app, { store, outbox: store, hub, authorize, state, version: VERSION });
  registerHealthRoutes(app, {
    store,
    state,
    prometheus,
    authorize,
    storeHealth,
    // WORKERS > 1: one scrape shows every worker (see src/cluster/cluster-metrics.ts).
    ...(cluster.isWorker ? { metricsText: clusterMetricsText(prometheus.registry) } : {}),
  });
  registerAlertRoutes(app, {
    outbox: store,
    authorize,
    ...(alerts ? { onRetried: () => alerts.wake() } : {}),
  });
  // Without auth there is no token to keep: the route is absent (404) and the page skips it.
  if (verifier) registerSessionRoutes(app, { verifier });
  if (config.GRIST_URL && config.GRIST_DOC_ID && config.AUTH_JWT_SECRET) {
    // The widget trades its Grist access token for a short relay token (HS256, signed here).
    const secret = config.AUTH_JWT_SECRET;
    await app.register(gristAuthRoutes, {
      grist: { url: config.GRIST_URL, docId: config.GRIST_DOC_ID, table: config.GRIST_TABLE },
      mint: (claims) =>
        mintToken({
          secret,
          role: claims.role,
          subject: claims.subject,
          ttlSeconds: claims.ttlSeconds,
          issuer: config.AUTH_JWT_ISSUER,
          audience: config.AUTH_JWT_AUDIENCE,
        }),
    });
  }
  registerWebApp(app, {
    distDir: WEB_DIST,
    tileUrl: config.MAP_TILE_URL,
    tileAttribution: config.MAP_TILE_ATTRIBUTION,
    heartbeatMs: config.HEARTBEAT_MS,
    retryMs: config.RETRY_MS,
    title: config.DASHBOARD_TITLE,
    gristUrl: config.GRIST_URL ?? null,
    authRequired: config.authEnabled,
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
    geocoding,
    async listen() {
      const url = await app.listen({ host: config.HOST, port: config.PORT });
      logger.info(
        { url, store: store.kind, auth: config.authEnabled, geocoder: config.GEOCODER },
        "relay listening",
      );
      await Promise.all([reconcileLease?.start(), alertLease?.start()]);
      alerts?.start();
      // The first sync runs in the background: the relay serves its stored state meanwhile,
      // and a Grist failure ends up in /api/status rather than stopping the relay.
      void reconciler?.start();
      return url;
    },
    stop() {
      stopping ??= (async () => {
        // 1. Readiness goes 503, new streams and webhooks are refused with Retry-After (Grist
        //    will retry), and streams end with a spread-out retry hint.
        state.shuttingDown = true;
        clearInterval(pruneTimer);
        hub.closeAll("shutdown");
        // 2. The port stays open for the drain period: a load balancer polling /readyz and
        //    senders get a 503 they understand, not "connection refused", while they move on.
        if (config.SHUTDOWN_DRAIN_MS > 0) {
          logger.info({ drainMs: config.SHUTDOWN_DRAIN_MS }, "draining before close");
          await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_MS));
        }
        // 3. In-flight webhooks finish (their events are already stored or refused).
        const deadline = setTimeout(
          () => app.server.closeAllConnections(),
          config.SHUTDOWN_TIMEOUT_MS,
        );
        deadline.unref();
        await app.close();
        clearTimeout(deadline);
        // 4. Background work stops (pending alerts stay in the outbox), leases are released.
        await Promise.all([reconciler?.stop(), alerts?.stop(), geocoding?.stop()]);
        await Promise.all([reconcileLease?.stop(), alertLease?.stop(), streamSlots?.stop()]);
        // 5. Then the store.
        hub.stop();
        await store.close();
        logger.info("relay stopped");
      })();
      return stopping;
    },
  };
}
