/**
 * `GET /events` and `GET /webhook/sse-stream`: the SSE streams, written on the raw socket so
 * each event is encoded once and the same bytes go to every subscriber.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Principal } from "../../auth/principal.ts";
import { RelayError } from "../../errors.ts";
import type { StreamFormat } from "../../hub/encoded-event.ts";
import type { Hub } from "../../hub/hub.ts";
import { buildFilter } from "../../hub/record-filter.ts";
import { Subscriber } from "../../hub/subscriber.ts";
import type { Metrics } from "../../metrics/metrics.ts";
import { encodeJsonFrame, encodeResponseHead } from "../../sse/frame.ts";
import { takeOverSocket } from "../../sse/take-over-socket.ts";
import type { EventStore } from "../../store/event-store.ts";
import { StoreUnavailableError } from "../../store/store-unavailable.ts";
import type { Authorize } from "../authorize.ts";
import type { CorsPolicy } from "../cors.ts";
import { badQuery, FilterQuerySchema } from "../query.ts";
import type { RelayState } from "../relay-state.ts";
import type { StreamLimits } from "../stream-limits.ts";

export interface StreamRoutesOptions {
  hub: Hub;
  store: EventStore;
  authorize: Authorize;
  limits: StreamLimits;
  state: RelayState;
  metrics: Metrics;
  cors: CorsPolicy;
}

const StreamQuerySchema = FilterQuerySchema.extend({
  // Event ids are short; anything longer or with control characters is not ours.
  lastEventId: z.string().max(64).optional(),
  heartbeat: z.enum(["comment", "event"]).optional(),
  token: z.string().optional(),
});

function lastEventIdOf(request: FastifyRequest, fromQuery: string | undefined): string | null {
  const header = request.headers["last-event-id"];
  const value = typeof header === "string" && header !== "" ? header : fromQuery;
  if (value === undefined || value === "") return null;
  // Never trust a client id beyond its shape: the store answers "gap" to what it does not know.
  // Event ids are "<epoch>.<position>" (src/store/event-ids.ts); the store parses them strictly.
  return value.length <= 64 && /^[0-9A-Za-z.-]+$/.test(value) ? value : "invalid";
}

export function registerStreamRoutes(app: FastifyInstance, options: StreamRoutesOptions): void {
  const { hub, authorize, limits, state, metrics } = options;

  /**
   * Everything that can refuse the stream, while Fastify still owns the reply: a refusal goes
   * through the one error handler like any other route. Returns the slot release on success.
   */
  async function admit(request: FastifyRequest) {
    if (state.shuttingDown) {
      metrics.subscriberRefused("shutdown");
      throw new RelayError(
        "RELAY_ERR_SHUTTING_DOWN",
        "le relais s'arrête ; reconnectez-vous à une autre instance",
        { retryAfterSeconds: 3 },
      );
    }
    const query = StreamQuerySchema.safeParse(request.query);
    if (!query.success) throw badQuery(query.error);
    let principal: Principal;
    try {
      principal = await authorize(request, "viewer");
    } catch (error) {
      metrics.subscriberRefused("auth");
      throw error;
    }
    // A stream would otherwise open, say `retry:` and hang on a store that cannot answer.
    if (!options.store.isReady())
      throw new StoreUnavailableError("store not ready for a new stream");
    let release: () => void;
    try {
      release = await limits.acquire(request.ip);
    } catch (error) {
      metrics.subscriberRefused(
        (error as RelayError).code === "RELAY_ERR_CAPACITY" ? "total" : "per-ip",
      );
      throw error;
    }
    return { query: query.data, principal, release };
  }

  async function openStream(
    request: FastifyRequest,
    reply: FastifyReply,
    format: StreamFormat,
  ): Promise<void> {
    const { query, principal, release } = await admit(request);
    // From here on the relay writes the response itself, on the socket.
    reply.hijack();
    const socket = request.raw.socket;
    if (socket.destroyed) {
      // The client left while it was being authorized: no "close" is coming to free the slot.
      release();
      return;
    }
    const lastEventId = lastEventIdOf(request, query.lastEventId);
    const subscriber = new Subscriber({
      socket,
      format,
      filter: buildFilter(query, principal.departements),
      clientAddress: request.ip,
      heartbeatAsEvent: query.heartbeat === "event",
      release,
    });

    socket.setNoDelay(true);
    socket.setTimeout(0);
    socket.setKeepAlive(true, 60_000);
    socket.write(encodeResponseHead(options.cors.headersFor(request.headers.origin)));
    // Node's HTTP server keeps a parser, the request and the response per connection for as
    // long as it lives: about 7 KiB that a stream never uses again. Released in the next turn,
    // once the parser has returned from the callback that brought us here.
    setImmediate(takeOverSocket, request.raw, reply.raw);

    if (principal.expiresAt !== null) {
      // An expired token ends the stream; the client comes back with a fresh one.
      const delay = Math.max(0, principal.expiresAt - Date.now());
      const timer = setTimeout(
        () => {
          subscriber.write(encodeJsonFrame("token-expired", { reason: "token-expired" }));
          hub.close(subscriber, "expired");
        },
        Math.min(delay, 2_147_483_647),
      );
      timer.unref();
      subscriber.expiry = timer;
    }
    try {
      await hub.open(subscriber, lastEventId);
    } catch (error) {
      // Past the head nothing can be answered as JSON: the hub closed the stream, the client
      // reconnects with its Last-Event-ID.
      request.log.warn({ err: error }, "stream catch-up failed");
    }
  }

  for (const [url, format] of [
    ["/events", "relay"],
    ["/webhook/sse-stream", "guide"],
  ] as const) {
    app.get(url, (request, reply) => openStream(request, reply, format));
  }
}
