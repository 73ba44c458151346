/** JSON reads: current state, event history (timeline) and the relay's status. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { RelayError } from "../../errors.ts";
import type { Hub } from "../../hub/hub.ts";
import { buildFilter, filterEvent, isUnfiltered, recordMatches } from "../../hub/record-filter.ts";
import type { EventStore } from "../../store/event-store.ts";
import type { Outbox } from "../../store/outbox.ts";
import type { Authorize } from "../authorize.ts";
import { badQuery, FilterQuerySchema } from "../query.ts";
import type { RelayState } from "../relay-state.ts";
import { acceptsGzip, SnapshotBodyCache } from "../snapshot-body.ts";

export interface ApiRoutesOptions {
  store: EventStore;
  outbox: Outbox | null;
  hub: Hub;
  authorize: Authorize;
  state: RelayState;
  version: string;
}

const FilterQuery = FilterQuerySchema;
const EventId = z
  .string()
  .max(64)
  .regex(/^[0-9A-Za-z.-]+$/, "identifiant d'événement invalide");
const EventsQuery = FilterQuery.extend({
  after: EventId.optional(),
  before: EventId.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

function foreignId(id: string): RelayError {
  return new RelayError(
    "RELAY_ERR_EVENT_ID_FOREIGN",
    `l'événement ${id} n'appartient pas à l'historique actuel du relais (stockage remplacé) ; rechargez l'état`,
  );
}

export function registerApiRoutes(app: FastifyInstance, options: ApiRoutesOptions): void {
  const { store, authorize, state } = options;

  const snapshotBodies = new SnapshotBodyCache(store);
  app.get("/api/interventions", async (request, reply) => {
    const principal = await authorize(request, "viewer");
    const query = FilterQuery.safeParse(request.query);
    if (!query.success) throw badQuery(query.error);
    const filter = buildFilter(query.data, principal.departements);
    if (isUnfiltered(filter)) {
      // Shared bytes, encoded once per state (snapshot-body.ts).
      const body = await snapshotBodies.body();
      reply.header("Content-Type", "application/json; charset=utf-8");
      reply.header("Vary", "Accept-Encoding");
      if (!acceptsGzip(request.headers["accept-encoding"])) return reply.send(body.json);
      reply.header("Content-Encoding", "gzip");
      return reply.send(body.gzipped);
    }
    const snapshot = await store.snapshot();
    const records = snapshot.records.filter((r) => recordMatches(r, filter));
    return { records, lastEventId: snapshot.lastEventId };
  });

  app.get("/api/events", async (request) => {
    const principal = await authorize(request, "viewer");
    const query = EventsQuery.safeParse(request.query);
    if (!query.success) throw badQuery(query.error);
    const { after, before, limit, ...filters } = query.data;
    if (after && before) throw new RelayError("RELAY_ERR_BAD_QUERY", "after et before s'excluent");
    if (before !== undefined) {
      // An empty page would read as "no older history": say the id is not of this one.
      const probe = await store.readAfter(before, 0);
      if (probe.kind === "foreign") throw foreignId(before);
    }
    let events = after === undefined ? await store.readLatest(limit, before) : undefined;
    if (after !== undefined) {
      const page = await store.readAfter(after, limit);
      if (page.kind === "foreign") throw foreignId(after);
      if (page.kind === "gap") {
        throw new RelayError(
          "RELAY_ERR_EVENT_ID_GONE",
          `l'événement ${after} n'est plus dans l'historique conservé ; rechargez l'état`,
        );
      }
      events = page.events;
    }
    const filter = buildFilter(filters, principal.departements);
    // As a stream with the same filter would show them: a record entering the scope is an
    // addition, one leaving it a removal naming only its id, never a value from outside.
    const visible = (events ?? []).flatMap((event) => filterEvent(event, filter) ?? []);
    // The relay's own record of the newest event: reading the whole state here would cost a
    // full snapshot per timeline request.
    return { events: visible, lastEventId: state.lastEventId };
  });

  app.get("/api/status", async (request) => {
    await authorize(request, "admin");
    const alerts = options.outbox
      ? await options.outbox.counts()
      : { pending: 0, sent: 0, failed: 0 };
    return {
      version: options.version,
      startedAt: state.startedAt,
      store: store.kind,
      ready: store.isReady() && !state.shuttingDown,
      subscribers: options.hub.size,
      // From the store, not this process: a restart does not reset it.
      eventsLastHour: await store.countSince(Date.now() - 3_600_000),
      lastEventId: state.lastEventId,
      lastWebhookAt: state.lastWebhookAt,
      lastReconciliation: state.lastReconciliation,
      alerts,
    };
  });
}
