/**
 * `GET /api/alerts?status=failed|pending|sent&limit=` (admin): the alert outbox as an operator
 * sees it, with counts by status. Only metadata leaves: never a token, a webhook secret or a
 * destination URL (those live in the configuration, not in the outbox).
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from "fastify";
import { z } from "zod";
import { AlertPayloadSchema } from "../../alerts/payload.ts";
import { OUTBOX_STATUSES, type Outbox, type OutboxItem } from "../../store/outbox.ts";
import { badQuery } from "../query.ts";

export interface AlertRoutesOptions {
  outbox: Pick<Outbox, "list" | "counts">;
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

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** What an admin sees of one alert; the message text stays out (it holds Grist data). */
function toView(item: OutboxItem) {
  const payload = AlertPayloadSchema.safeParse(item.payload);
  return {
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
}

/** The same routes as a Fastify plugin, for `app.register(alertRoutes, options)`. */
export const alertRoutes: FastifyPluginAsync<AlertRoutesOptions> = async (app, options) => {
  registerAlertRoutes(app, options);
};
