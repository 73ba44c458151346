/**
 * `POST /webhooks/grist` (Grist's real body) and `POST /webhook/grist-realtime` (the guide's URL,
 * which also takes the guide's `{id, fields}` shape). The answer is sent only once the events
 * are stored, and fast: Grist has one send loop per document and no timeout.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { webhookAuthorized } from "../../auth/webhook-secret.ts";
import { RelayError } from "../../errors.ts";
import type { Ingestor } from "../../grist/ingest.ts";
import {
  GristWebhookBodySchema,
  GuideWebhookBodySchema,
  type IncomingRow,
  rowFromFlat,
  rowsFromGuideBody,
} from "../../grist/webhook-payload.ts";
import type { Metrics } from "../../metrics/metrics.ts";
import type { EventStore } from "../../store/event-store.ts";
import { answeredCode } from "../error-handler.ts";
import { describeIssues } from "../query.ts";
import type { RelayState } from "../relay-state.ts";
import type { StoreHealth } from "../store-health.ts";

export interface WebhookRoutesOptions {
  ingestor: Ingestor;
  store: EventStore;
  state: RelayState;
  metrics: Metrics;
  secret: string | undefined;
  bodyLimitBytes: number;
  storeHealth: StoreHealth;
}

const QuerySchema = z.object({
  event: z.enum(["add", "update"]).optional(),
  secret: z.string().max(512).optional(),
});

export function registerWebhookRoutes(app: FastifyInstance, options: WebhookRoutesOptions): void {
  const { ingestor, state, metrics, secret } = options;

  /** Runs before the body is read: an unauthenticated sender never makes the relay parse JSON. */
  async function checkSecret(request: FastifyRequest): Promise<void> {
    if (state.shuttingDown)
      throw new RelayError("RELAY_ERR_SHUTTING_DOWN", "le relais s'arrête ; Grist réessaiera", {
        retryAfterSeconds: 5,
      });
    if (!secret) return;
    const query = request.query as Record<string, unknown>;
    const querySecret = typeof query.secret === "string" ? query.secret : undefined;
    if (!webhookAuthorized(secret, request.headers.authorization, querySecret)) {
      throw new RelayError(
        "RELAY_ERR_WEBHOOK_SECRET",
        "secret du webhook absent ou incorrect (Authorization: Bearer <WEBHOOK_SECRET>)",
      );
    }
  }

  async function accept(request: FastifyRequest, rows: IncomingRow[], merge: boolean) {
    const query = QuerySchema.safeParse(request.query);
    if (!query.success) throw new RelayError("RELAY_ERR_BAD_QUERY", describeIssues(query.error));
    if (!options.store.isReady()) {
      throw new RelayError(
        "RELAY_ERR_STORE_UNAVAILABLE",
        "stockage indisponible ; Grist réessaiera",
        { retryAfterSeconds: 5 },
      );
    }
    let result: Awaited<ReturnType<Ingestor["ingestRows"]>>;
    try {
      result = await ingestor.ingestRows(rows, {
        source: "webhook",
        hint: query.data.event,
        merge,
      });
    } catch (error) {
      options.storeHealth.writeFailed(error);
      // Nothing was acknowledged: a non-2xx makes Grist keep the batch and retry it.
      throw new RelayError(
        "RELAY_ERR_STORE_UNAVAILABLE",
        "écriture impossible ; Grist réessaiera",
        { retryAfterSeconds: 5, cause: error },
      );
    }
    options.storeHealth.writeSucceeded();
    state.lastWebhookAt = new Date().toISOString();
    return { received: result.received, events: result.events.length };
  }

  function timed(route: string) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const seconds = reply.elapsedTime / 1000;
      const code =
        reply.statusCode < 400 ? "ok" : (answeredCode(reply) ?? String(reply.statusCode));
      metrics.webhookAnswered(reply.statusCode, code, seconds);
      if (reply.statusCode >= 400)
        request.log.warn({ route, status: reply.statusCode }, "webhook refused");
    };
  }

  /** Grist always sends application/json; anything else (text/plain, forms) is refused as such. */
  async function requireJson(request: FastifyRequest): Promise<void> {
    const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json") {
      throw new RelayError(
        "RELAY_ERR_UNSUPPORTED_MEDIA_TYPE",
        `Content-Type attendu : application/json (reçu : ${type || "aucun"})`,
      );
    }
  }

  const routeOptions = { onRequest: [checkSecret, requireJson], bodyLimit: options.bodyLimitBytes };

  app.post(
    "/webhooks/grist",
    { ...routeOptions, onResponse: timed("/webhooks/grist") },
    async (request) => {
      const body = GristWebhookBodySchema.safeParse(request.body);
      if (!body.success) {
        throw new RelayError(
          "RELAY_ERR_BAD_PAYLOAD",
          `corps attendu : tableau de lignes Grist ({"id": <entier>, …}) — ${describeIssues(body.error)}`,
        );
      }
      return accept(request, body.data.map(rowFromFlat), false);
    },
  );

  app.post(
    "/webhook/grist-realtime",
    { ...routeOptions, onResponse: timed("/webhook/grist-realtime") },
    async (request) => {
      const body = GuideWebhookBodySchema.safeParse(request.body);
      if (!body.success) {
        throw new RelayError(
          "RELAY_ERR_BAD_PAYLOAD",
          `corps attendu : {"id", "fields"} ou tableau de lignes Grist — ${describeIssues(body.error)}`,
        );
      }
      // The guide's posts may carry only some columns: merge them into the known record.
      const guideShaped = !Array.isArray(body.data) || body.data.some((item) => "fields" in item);
      return accept(request, rowsFromGuideBody(body.data), guideShaped);
    },
  );
}
