/**
 * `GET /api/alerts?status=failed|pending|sent&limit=` (admin): the alert outbox as an operator
 * sees it, with counts by status. Only metadata leaves: never a token, a webhook secret or a
 * destination URL (those live in the configuration, not in the outbox).
 *
 * `POST /api/alerts/{key}/retry` (admin): puts a failed alert back in the queue, due now.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from "fastify";
import { z } from "zod";
import { AlertPayloadSchema } from "../../alerts/payload.ts";
import { RelayError } from "../../errors.ts";
import { OUTBOX_STATUSES, type Outbox, type OutboxItem } from "../../store/outbox.ts";
import { badQuery } from "../query.ts";

export interface AlertRoutesOptions {
  outbox: Pick<Outbox, "list" | "counts" | "retry">;
  /** Called after an admin retry, so the dispatcher looks at the outbox now. */
  onRetried?: () => void;
  /** Resolves when the request has at least `minimumRole`, throws a RelayError otherwise. */
  authorize: (
    request: FastifyRequest,
    minimumRole: "viewer" | "supervisor" | "admin",
  ) => Promise<unknown>;
}

const AlertsQuery = z.object({
  status: z.enum(OUTBOX_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** Outbox keys are `<event>:<destination>`: short, printable, no path separators. */
const RetryParams = z.object({ key: z.string().min(1).max(300) });

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** What an admin sees of one alert; the message text stays out (it holds Grist data). */
function toView(item: OutboxItem) {
  const payload = AlertPayloadSchema.safeParse(item.payload);
  return {
    /** Also the `X-Grist-Realtime-Delivery` header every attempt carries. */
    key: item.key,
    destination: item.destination,
    status: item.status,
    attempts: item.attempts,
    lastError: item.lastError,
    nextAttemptAt: iso(item.nextAttemptAt),
    createdAt: iso(item.createdAt),
    updatedAt: iso(item.updatedAt),
    eventId: payload.success ? payload.data.eventId : null,
    rule: payload.success ? payload.data.rule : null,
    reference: payload.success ? payload.data.reference : null,
    title: payload.success ? payload.data.message.title : null,
  };
}

export function registerAlertRoutes(app: FastifyInstance, options: AlertRoutesOptions): void {
  app.get("/api/alerts", async (request) => {
    await options.authorize(request, "admin");
    const query = AlertsQuery.safeParse(request.query);
    if (!query.success) throw badQuery(query.error);
    const { status, limit } = query.data;
    const [items, counts] = await Promise.all([
      options.outbox.list({ ...(status ? { status } : {}), limit }),
      options.outbox.counts(),
    ]);
    return { alerts: items.map(toView), counts };
  });

  app.post("/api/alerts/:key/retry", async (request) => {
    await options.authorize(request, "admin");
    const params = RetryParams.safeParse(request.params);
    if (!params.success) throw badQuery(params.error);
    const { key } = params.data;
    const result = await options.outbox.retry(key, Date.now());
    if (result === "not-found") {
      throw new RelayError("RELAY_ERR_ALERT_NOT_FOUND", "Aucune alerte n'a cette clé.");
    }
    if (result === "not-failed") {
      throw new RelayError(
        "RELAY_ERR_ALERT_NOT_FAILED",
        "Cette alerte n'est pas en échec : seule une alerte en échec peut être relancée.",
      );
    }
    request.log.info({ key }, "failed alert put back in the queue by an admin");
    options.onRetried?.();
    return { key, status: "pending" };
  });
}

/** The same routes as a Fastify plugin, for `app.register(alertRoutes, options)`. */
export const alertRoutes: FastifyPluginAsync<AlertRoutesOptions> = async (app, options) => {
  registerAlertRoutes(app, options);
};
